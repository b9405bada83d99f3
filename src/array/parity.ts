// XOR parity over whole columns. Buffers that are views of one XorSlab (xor-kernel.ts) go
// through the WebAssembly SIMD kernel; others are processed 32 bits at a time when they are
// aligned (Node's pooled Buffers may not be), bytes otherwise.

import { sharedSlab } from './xor-kernel';

export function xorInto(target: Buffer, source: Buffer): void {
  const slab = sharedSlab(target, source);
  if (slab) {
    slab.xor(target, source);
    return;
  }
  const n = Math.min(target.length, source.length);
  if (target.byteOffset % 4 === 0 && source.byteOffset % 4 === 0) {
    const words = n >>> 2;
    const t = new Uint32Array(target.buffer, target.byteOffset, words);
    const s = new Uint32Array(source.buffer, source.byteOffset, words);
    for (let i = 0; i < words; i++) t[i] ^= s[i];
    for (let i = words << 2; i < n; i++) target[i] ^= source[i];
  } else {
    for (let i = 0; i < n; i++) target[i] ^= source[i];
  }
}

/** Parity of `columns` (all the same length) into a new buffer. */
export function parityOf(columns: Buffer[], length: number): Buffer {
  const parity = Buffer.alloc(length);
  for (const c of columns) xorInto(parity, c);
  return parity;
}
