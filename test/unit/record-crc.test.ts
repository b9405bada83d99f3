// Record CRCs cross-checked with an independent CRC-32 (the crc-32 package, not zlib): the
// 44-byte header CRC that crc32Short computes in plain JS, and the payload CRC that zlib.crc32
// computes, are both the IEEE CRC-32 that docs/FORMAT.md promises, so a record written here
// can be verified by any other implementation.

import { expect } from 'chai';
import * as CRC32 from 'crc-32';
import { crc32 } from 'node:zlib';
import { RECORD_HEADER_BYTES, encodeHeader, tryDecodeHeader } from '../../src/lsa/record-format';
import { crc32Short } from '../../src/util/crc32-short';
import { Prng } from '../../src/util/prng';
import { seedFrom } from '../support/tmp';

const independent = (b: Uint8Array): number => CRC32.buf(b) >>> 0;

describe('record CRCs against an independent CRC-32', () => {
  it('header CRC (crc32Short) and payload CRC (zlib) equal the crc-32 package', () => {
    const seed = seedFrom(0x7ec0);
    const rng = new Prng(seed);
    for (let i = 0; i < 500; i++) {
      const payload = rng.fill(Buffer.alloc(rng.int(9000)));
      const h = {
        flags: rng.int(4) << 4, volumeId: 1 + rng.int(1000), payloadBytes: payload.length, track: rng.int(2 ** 40),
        seq: rng.int(2 ** 52), trackCount: 1, payloadCrc: crc32(payload),
      };
      expect(h.payloadCrc, `seed ${seed}: payload ${i}`).to.equal(independent(payload));
      const buf = Buffer.alloc(8 + RECORD_HEADER_BYTES);
      const at = rng.int(8);
      encodeHeader(h, buf, at);
      expect(buf.readUInt32LE(at + 44), `seed ${seed}: header ${i}`).to.equal(independent(buf.subarray(at, at + 44)));
      expect(tryDecodeHeader(buf, at)).to.deep.include(h);
      const from = rng.int(payload.length + 1);
      const to = from + rng.int(payload.length - from + 1);
      expect(crc32Short(payload, from, to), `seed ${seed}: crc32Short [${from}, ${to})`).to.equal(independent(payload.subarray(from, to)));
    }
  });
});
