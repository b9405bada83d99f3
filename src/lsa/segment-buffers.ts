// Memory for segments while they are in memory (open, or sealed and being written): the data
// area and one parity column, reused from segment to segment. A fresh 4 MiB Buffer per segment
// cost the page faults of touching new memory (627 ms for 256 fresh buffers against 53 ms
// reusing, measured on the bench machine). The pool is one XorSlab (a WebAssembly memory, so
// the parity XOR runs in the SIMD kernel) cut into `slots` sets, made on first use: one
// memory per engine, since each reserves address space. When every slot is taken (the
// collector may seal several segments at once) or WebAssembly cannot provide the slab, the
// pool hands out ordinary Buffers, dropped after use.
//
// Reused buffers hold the previous segment's bytes: MemSegment treats everything past its
// fill point as undefined and never lets it out.

import type { Layout } from '../array/geometry';
import { XOR_SLAB_BYTES_MAX, XorSlab } from '../array/xor-kernel';

export interface SegmentBuffers {
  /** The segment's data area (dataColumns x columnBytes). */
  data: Buffer;
  /** One column, for the segment's parity. */
  parity: Buffer;
  /** Slot in the pool's slab, or -1 for buffers outside it. */
  slot: number;
}

export class SegmentBufferPool {
  private slab: XorSlab | null | undefined;
  private freeSlots: number[] = [];
  private readonly setBytes: number;
  private readonly slots: number;

  /** `slots`: how many segments the slab holds (fewer if they would not fit one slab). */
  constructor(private readonly layout: Layout, slots: number) {
    this.setBytes = layout.segmentDataBytes + layout.columnBytes;
    this.slots = Math.min(slots, Math.floor(XOR_SLAB_BYTES_MAX / this.setBytes));
  }

  take(): SegmentBuffers {
    if (this.slab === undefined) {
      this.slab = this.slots > 0 ? XorSlab.create(this.slots * this.setBytes) : null;
      for (let i = this.slots - 1; this.slab && i >= 0; i--) this.freeSlots.push(i);
    }
    const slot = this.freeSlots.pop();
    const dataBytes = this.layout.segmentDataBytes;
    if (slot === undefined || !this.slab) {
      return { data: Buffer.alloc(dataBytes), parity: Buffer.alloc(this.layout.columnBytes), slot: -1 };
    }
    const at = slot * this.setBytes;
    const bytes = this.slab.bytes;
    return { data: bytes.subarray(at, at + dataBytes), parity: bytes.subarray(at + dataBytes, at + this.setBytes), slot };
  }

  give(buffers: SegmentBuffers): void {
    if (buffers.slot >= 0) this.freeSlots.push(buffers.slot);
  }
}
