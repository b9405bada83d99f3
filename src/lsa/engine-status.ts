// Whether the engine takes work. It stops for good after an I/O error of the destager (the
// array is then reopened, which recovers from the last commit) and when it is closed; every
// entry point (reads, writes, flush, waiting for room) checks here first.

import { ClosedError } from '../errors';

export class EngineStatus {
  closed = false;
  /** The first I/O error that stopped the engine, or null. */
  failure: unknown = null;

  /** Throws ClosedError if the engine is closed or stopped. */
  check(): void {
    if (this.closed) throw new ClosedError('the array is closed');
    if (this.failure) {
      throw new ClosedError(
        `the array stopped after an I/O error (${(this.failure as Error).message}); reopen it to recover from the last commit`,
        {},
      );
    }
  }

  /** Keeps the first error: the engine takes no more work until it is reopened. */
  fail(err: unknown): void {
    this.failure = this.failure ?? err;
  }
}
