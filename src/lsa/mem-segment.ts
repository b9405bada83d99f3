// A segment while it is in memory: the open segment being filled, or a sealed one waiting to
// be written. Records are appended at `fill`, column after column; a record never spans two
// columns. Three marks, in data-area bytes, always issued >= written and fill >= issued until
// the seal:
//   fill       records end here; bytes past it are undefined (the buffer is reused) and are
//              never read, written or XORed: the logical content past fill is zeros
//   issued     [0, issued) has been handed to the disks (writes issued, maybe in flight)
//   written    [0, written) is on the disks (those writes completed)
// `committed` is the fill point as of the last commit: NVRAM's partial parity covers it.

import type { Layout } from '../array/geometry';
import { xorInto } from '../array/parity';
import type { SegmentBuffers } from './segment-buffers';

export interface Piece {
  column: number;
  offset: number;
  start: number;
  end: number;
}

export class MemSegment {
  fill = 0;
  issued = 0;
  written = 0;
  /** Fill point as of the last commit: the partial parity in NVRAM covers [0, committed). */
  committed = 0;
  sealed = false;
  /** Disk writes issued for this segment and not yet completed (they never reject). */
  readonly inflight = new Set<Promise<void>>();
  /** The first write of this segment that failed, if any. */
  writeError: unknown = null;
  readonly buffer: Buffer;
  /** The parity column, valid once the segment is sealed. */
  readonly parity: Buffer;

  constructor(readonly segment: number, readonly layout: Layout, readonly buffers: SegmentBuffers) {
    this.buffer = buffers.data;
    this.parity = buffers.parity;
  }

  /** Where a record of `bytes` would go, or -1 if the segment has no room left for it. */
  place(bytes: number): number {
    const cb = this.layout.columnBytes;
    let column = Math.floor(this.fill / cb);
    let offset = this.fill - column * cb;
    if (offset + bytes > cb) {
      column++;
      offset = 0;
    }
    if (column >= this.layout.dataColumns) return -1;
    return column * cb + offset;
  }

  /** How many records of `bytes` still fit. */
  recordsLeft(bytes: number): number {
    const cb = this.layout.columnBytes;
    const column = Math.floor(this.fill / cb);
    if (column >= this.layout.dataColumns) return 0;
    const inColumn = Math.floor((cb - (this.fill - column * cb)) / bytes);
    return inColumn + (this.layout.dataColumns - column - 1) * Math.floor(cb / bytes);
  }

  /** Parity of the logical content (zeros past `fill`) over column bytes [from, to). */
  parityOf(from: number, to: number): Buffer {
    const cb = this.layout.columnBytes;
    const out = Buffer.alloc(to - from);
    for (let c = 0; c < this.layout.dataColumns; c++) {
      const start = c * cb + from;
      if (start >= this.fill) break;
      const end = Math.min(c * cb + to, this.fill);
      xorInto(out, this.buffer.subarray(start, end));
    }
    return out;
  }

  /** Copy of data bytes [from, to), zeros past `fill`. */
  copyData(from: number, to: number): Buffer {
    const out = Buffer.alloc(to - from);
    const end = Math.min(to, this.fill);
    if (end > from) this.buffer.copy(out, 0, from, end);
    return out;
  }

  /** Closes the segment's content: zeros from `fill` to the end of the data area, and the
   * parity of all data columns into `parity`. */
  sealContent(): void {
    const cb = this.layout.columnBytes;
    this.buffer.fill(0, this.fill);
    this.buffer.copy(this.parity, 0, 0, cb);
    for (let c = 1; c < this.layout.dataColumns; c++) xorInto(this.parity, this.buffer.subarray(c * cb, (c + 1) * cb));
  }

  /** Splits the data range [from, to) into per-column pieces. */
  pieces(from: number, to: number): Piece[] {
    const cb = this.layout.columnBytes;
    const out: Piece[] = [];
    for (let pos = from; pos < to;) {
      const column = Math.floor(pos / cb);
      const end = Math.min(to, (column + 1) * cb);
      out.push({ column, offset: pos - column * cb, start: pos, end });
      pos = end;
    }
    return out;
  }
}
