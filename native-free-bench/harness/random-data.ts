// Incompressible bytes from the project's seeded PRNG, generated before any timing starts, so a
// printed seed reproduces the exact data.

import { Prng } from '../../src/util/prng';

/** `bytes` of seeded pseudo-random data (a multiple of 4 bytes is fastest). */
export function randomBytes(bytes: number, seed: number): Buffer {
  const rng = new Prng(seed);
  const buf = Buffer.allocUnsafeSlow(bytes);
  const words = new Uint32Array(buf.buffer, buf.byteOffset, bytes >>> 2);
  for (let i = 0; i < words.length; i++) words[i] = rng.u32();
  for (let i = words.length * 4; i < bytes; i++) buf[i] = rng.u32() & 0xff;
  return buf;
}
