// Memory for segments while they are in memory (open, or sealed and being written): the data
// area and one parity column, reused from segment to segment. A fresh 4 MiB Buffer per segment
// cost the page faults of touching new memory (627 ms for 256 fresh buffers against 53 ms
// reusing, measured on the bench machine). Both parts live in one XorSlab when WebAssembly can
// provide it, so the parity XOR runs in the SIMD kernel; otherwise in ordinary Buffers.
//
// Reused buffers hold the previous segment's bytes: MemSegment treats everything past its
// fill point as undefined and never lets it out.

import type { Layout } from '../array/geometry';
import { XorSlab } from '../array/xor-kernel';

export interface SegmentBuffers {
  /** The segment's data area (dataColumns x columnBytes). */
  data: Buffer;
  /** One column, for the segment's parity. */
  parity: Buffer;
}

export class SegmentBufferPool {
  private free: SegmentBuffers[] = [];

  /** Keeps at most `keepMax` idle buffer sets for reuse; more are left to the GC. */
  constructor(private readonly layout: Layout, private readonly keepMax: number) {}

  take(): SegmentBuffers {
    const reused = this.free.pop();
    if (reused) return reused;
    const dataBytes = this.layout.segmentDataBytes;
    const cb = this.layout.columnBytes;
    const slab = XorSlab.create(dataBytes + cb);
    if (slab) return { data: slab.bytes.subarray(0, dataBytes), parity: slab.bytes.subarray(dataBytes, dataBytes + cb) };
    return { data: Buffer.alloc(dataBytes), parity: Buffer.alloc(cb) };
  }

  give(buffers: SegmentBuffers): void {
    if (this.free.length < this.keepMax) this.free.push(buffers);
  }

  /** Idle buffer sets kept (for tests of the bound). */
  get idle(): number {
    return this.free.length;
  }
}
