// Writing in-memory segments to the disks. Host writes no longer wait for a seal to reach the
// disks: a data column is written as soon as it is full (the engine calls `issue` when a
// record starts a new column), the rest of a segment and its parity when it is sealed, and the
// filled part of an open segment at a group commit. `settle` waits for what was issued.
//
// Invariants the destager builds on (destager.ts):
//   - a column range is issued once, from `issued` upward, and only when its bytes are final;
//     the buffer it points into is not reused before `settle` has seen the write complete;
//   - a write error is kept on the segment (`writeError`) and reported to `onError` at once,
//     and every later `settle` of that segment throws it, so no commit can count those bytes
//     as written;
//   - `written` only advances in `settle`, after the writes below it completed.
//
// Writeback: left alone, the kernel keeps gigabytes of written data in its cache until the
// flush's fdatasync, which then waits for all of it. After every WRITEBACK_BYTES the writer
// starts a background writeback (DiskArray.writeback) so the disks work while the host is
// still writing. It settles nothing: the commit's own sync still covers every disk. A failed
// writeback stops the engine, since the kernel may have dropped those pages.

import type { DiskArray } from '../array/disk-array';
import type { WriteHint } from '../io/disk-file';
import type { MemSegment } from './mem-segment';

const DIRECT: WriteHint = { direct: true };
const CACHED: WriteHint = {};

/** Bytes handed to the disks since the last sync or writeback that start a writeback. */
export const WRITEBACK_BYTES = 64 * 1024 * 1024;

export class SegmentWriter {
  private bytesSinceWriteback = 0;
  private writebackRunning: Promise<void> | null = null;

  constructor(private readonly array: DiskArray, private readonly onError: (err: unknown) => void) {}

  private track(mem: MemSegment, write: Promise<void>, bytes: number): void {
    this.bytesSinceWriteback += bytes;
    const done: Promise<void> = write.then(
      () => {
        mem.inflight.delete(done);
      },
      (err: unknown) => {
        mem.inflight.delete(done);
        if (mem.writeError === null) mem.writeError = err;
        this.onError(err);
      },
    );
    mem.inflight.add(done);
  }

  /** Pool memory (the slab) is page-aligned and is not reused before `settle`: the disk may
   * write it directly (O_DIRECT) when a piece is aligned. */
  private hintFor(mem: MemSegment): WriteHint {
    return mem.buffers.slot >= 0 ? DIRECT : CACHED;
  }

  /** Issues the writes of data bytes [mem.issued, to): those bytes must be final. */
  issue(mem: MemSegment, to: number): void {
    if (to <= mem.issued) return;
    for (const p of mem.pieces(mem.issued, to)) {
      this.track(mem, this.array.writeColumn(mem.segment, p.column, p.offset, mem.buffer.subarray(p.start, p.end), this.hintFor(mem)), p.end - p.start);
    }
    mem.issued = to;
  }

  /** A sealed segment: zeros its tail, computes its parity and issues the remaining data
   * columns and the parity column. */
  issueSealed(mem: MemSegment): void {
    mem.sealContent();
    this.issue(mem, mem.layout.segmentDataBytes);
    this.track(mem, this.array.writeParity(mem.segment, 0, mem.parity, this.hintFor(mem)), mem.parity.length);
  }

  /** Waits for every write issued so far for `mem`; throws the segment's write error. */
  async settle(mem: MemSegment): Promise<void> {
    const upTo = mem.issued;
    if (mem.inflight.size > 0) await Promise.all([...mem.inflight]);
    if (mem.writeError !== null) throw mem.writeError;
    mem.written = Math.max(mem.written, upTo);
  }

  /** Starts a background writeback if enough was written since the last one (see above). */
  maybeWriteback(): void {
    if (this.bytesSinceWriteback < WRITEBACK_BYTES || this.writebackRunning) return;
    this.bytesSinceWriteback = 0;
    this.writebackRunning = this.array.writeback().then(
      () => {
        this.writebackRunning = null;
      },
      (err: unknown) => {
        this.writebackRunning = null;
        this.onError(err);
      },
    );
  }

  /** The disks were synced: what was written so far needs no writeback. */
  synced(): void {
    this.bytesSinceWriteback = 0;
  }

  /** Waits for a background writeback (before the disks are closed). */
  async quiesce(): Promise<void> {
    await this.writebackRunning;
  }
}
