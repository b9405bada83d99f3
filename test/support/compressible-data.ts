// Data that compresses, for tests of compressed volumes: random writes of random bytes would
// never be stored compressed. Each 512-byte piece is one of: random bytes, zeros, text-like
// words, or one repeated byte, so a track may compress well, a little, or not at all.

import type { Prng } from '../../src/util/prng';

const PIECE_BYTES = 512;
const WORDS = 'the of and to in is was for on that with as by at from this be it are or segment parity volume track record column disk write read flush'.split(' ');

export function fillCompressible(rng: Prng, buf: Buffer): Buffer {
  for (let at = 0; at < buf.length; at += PIECE_BYTES) {
    const piece = buf.subarray(at, Math.min(buf.length, at + PIECE_BYTES));
    const kind = rng.int(4);
    if (kind === 0) rng.fill(piece);
    else if (kind === 1) piece.fill(0);
    else if (kind === 2) piece.fill(rng.int(256));
    else {
      let text = '';
      while (text.length < piece.length) text += rng.pick(WORDS) + (rng.chance(0.1) ? '.\n' : ' ');
      piece.write(text, 'latin1');
    }
  }
  return buf;
}
