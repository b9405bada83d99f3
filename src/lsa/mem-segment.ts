// A segment while it is in memory: the open segment being filled, or a sealed one waiting to
// be written. Records are appended at `fill`, column after column; a record never spans two
// columns. `written` is how far (in segment data bytes) the buffer has reached the disks.

import type { Layout } from '../array/geometry';
import { xorInto } from '../array/parity';

export class MemSegment {
  fill = 0;
  written = 0;
  /** Fill point as of the last commit: the partial parity in NVRAM covers [0, committed). */
  committed = 0;
  sealed = false;
  readonly buffer: Buffer;

  constructor(readonly segment: number, readonly layout: Layout, buffer?: Buffer) {
    this.buffer = buffer ?? Buffer.alloc(layout.segmentDataBytes);
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
      xorInto(out, this.buffer.subarray(start, c * cb + to));
    }
    return out;
  }

  /** Splits the data range [from, to) into per-column pieces. */
  pieces(from: number, to: number): { column: number; offset: number; start: number; end: number }[] {
    const cb = this.layout.columnBytes;
    const out: { column: number; offset: number; start: number; end: number }[] = [];
    for (let pos = from; pos < to;) {
      const column = Math.floor(pos / cb);
      const end = Math.min(to, (column + 1) * cb);
      out.push({ column, offset: pos - column * cb, start: pos, end });
      pos = end;
    }
    return out;
  }
}
