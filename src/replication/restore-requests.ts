// The primary's outstanding RESTORE_READs: each waits for the RESTORE_DATA with its id, a
// timeout, or the loss of the link (bounded by the caller: a restore keeps at most a few in
// flight).

import { ProtocolError, RemoteError, TimeoutError, UnavailableError, errorFromCode } from '../errors';
import type { Cancel, Timers } from '../io/timers';
import type { FramedSocket } from './framed-socket';
import { MSG, encodeJson } from './messages';
import { checkRestoreChunk, decodeRestoreDataHead, type RestoreChunk, type RestoreRead } from './restore-messages';

interface Waiter {
  req: RestoreRead;
  resolve: (c: RestoreChunk) => void;
  reject: (e: Error) => void;
  cancelTimer: Cancel;
}

export class RestoreRequests {
  private waiters = new Map<number, Waiter>();
  private ids = 0;

  constructor(private readonly timers: Timers) {}

  read(link: FramedSocket, ask: Omit<RestoreRead, 'id'>, timeoutMs: number): Promise<RestoreChunk> {
    const req: RestoreRead = { ...ask, id: ++this.ids };
    return new Promise<RestoreChunk>((resolve, reject) => {
      const cancelTimer = this.timers.after(timeoutMs, () => {
        this.waiters.delete(req.id);
        reject(new TimeoutError(`no answer from the secondary within ${timeoutMs} ms for ${req.volume}@${req.name} bytes ${req.offset}+${req.length}`));
      });
      this.waiters.set(req.id, { req, resolve, reject, cancelTimer });
      if (!link.send(MSG.RESTORE_READ, encodeJson(req)) && link.isClosed) this.settle(req.id, new UnavailableError('the replica link closed'));
    });
  }

  /** A RESTORE_DATA arrived. An answer to no request is ignored (it timed out). */
  onData(payload: Buffer): void {
    const { head, data } = decodeRestoreDataHead(payload);
    const w = this.waiters.get(head.id);
    if (!w) return;
    if (typeof head.error === 'string') {
      // the secondary's error code (no such snapshot: LSA_NOT_FOUND, ...) gives the same class here
      this.settle(head.id, errorFromCode(head.code, `the secondary cannot read ${w.req.volume}@${w.req.name}: ${head.error}`, {}, RemoteError));
      return;
    }
    let chunk: RestoreChunk;
    try {
      chunk = checkRestoreChunk(w.req, head, data);
    } catch (err) {
      this.settle(head.id, err as Error);
      throw err instanceof ProtocolError ? err : new ProtocolError(String(err));
    }
    this.waiters.delete(head.id);
    w.cancelTimer();
    w.resolve(chunk);
  }

  failAll(reason: string): void {
    for (const id of [...this.waiters.keys()]) this.settle(id, new UnavailableError(reason));
  }

  private settle(id: number, err: Error): void {
    const w = this.waiters.get(id);
    if (!w) return;
    this.waiters.delete(id);
    w.cancelTimer();
    w.reject(err);
  }
}
