// Frames built in place (FrameBatch) read back exactly as encodeFrame's, whatever the cut of
// the byte stream; a damaged or oversized frame is still refused; UPDATE headers round-trip
// their 64-bit fields without BigInt and refuse values past 2^53.

import { expect } from 'chai';
import * as CRC32 from 'crc-32';
import { crc32 } from 'node:zlib';
import { ProtocolError } from '../../src/errors';
import { FrameBatch, BATCH_BUFFER_BYTES } from '../../src/replication/frame-batch';
import { FRAME_HEADER_BYTES, FRAME_PAYLOAD_MAX, FrameReader, encodeFrame, type Frame } from '../../src/replication/frame';
import { MSG, decodeUpdate, encodeUpdateHeader } from '../../src/replication/messages';
import { Prng } from '../../src/util/prng';
import { seedFrom } from '../support/tmp';

function bytes(rng: Prng, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rng.int(256);
  return b;
}

/** Feeds `stream` to a reader in random cuts. */
function readAll(stream: Buffer, rng: Prng): Frame[] {
  const reader = new FrameReader();
  const out: Frame[] = [];
  for (let at = 0; at < stream.length;) {
    const n = Math.min(stream.length - at, 1 + rng.int(9000));
    out.push(...reader.push(stream.subarray(at, at + n)));
    at += n;
  }
  return out;
}

describe('replication frames', () => {
  it('a batch of frames built in place reads back like encodeFrame, in any cut of the stream', () => {
    const seed = seedFrom(0xf4a3e);
    const rng = new Prng(seed);
    const batch = new FrameBatch();
    const sent: Buffer[] = [];
    const expected: Buffer[] = [];
    // small and large frames, across several batch buffers and takes; one bigger than a buffer
    const sizes = [0, 1, 40, 4136, 4136, 70_000, BATCH_BUFFER_BYTES + 7, 4136, 12];
    for (let i = 0; i < 60; i++) {
      const size = i < sizes.length ? sizes[i] : rng.int(20_000);
      const head = bytes(rng, Math.min(size, 40));
      const tail = bytes(rng, size - head.length);
      batch.add(MSG.UPDATE, i + 1, tail.length > 0 ? [head, tail] : [head]);
      expected.push(encodeFrame(MSG.UPDATE, i + 1, Buffer.concat([head, tail])));
      head.fill(0); // the batch copied them: the caller may reuse its buffers at once
      tail.fill(0);
      if (rng.int(4) === 0) sent.push(...batch.take());
    }
    const total = (bufs: Buffer[]): number => bufs.reduce((n, b) => n + b.length, 0);
    expect(batch.bytes, `seed ${seed}: bytes not yet taken`).to.equal(total(expected) - total(sent));
    sent.push(...batch.take());
    expect(Buffer.concat(sent).equals(Buffer.concat(expected)), `seed ${seed}: same bytes as encodeFrame`).to.equal(true);
    const frames = readAll(Buffer.concat(sent), rng);
    expect(frames.map((f) => f.number)).to.deep.equal(expected.map((_, i) => i + 1));
    for (let i = 0; i < frames.length; i++) expect(frames[i].payload.equals(expected[i].subarray(20)), `frame ${i + 1}`).to.equal(true);
    expect(batch.bytes).to.equal(0);
  });

  it('a damaged byte anywhere in a batch is refused (CRC, magic, length or number)', () => {
    const seed = seedFrom(0xf4a3f);
    const rng = new Prng(seed);
    for (let trial = 0; trial < 40; trial++) {
      const batch = new FrameBatch();
      for (let i = 0; i < 5; i++) batch.add(MSG.UPDATE, i + 1, [bytes(rng, 1 + rng.int(5000))]);
      const stream = Buffer.concat(batch.take());
      const at = rng.int(stream.length);
      stream[at] ^= 1 << rng.int(8);
      let err: unknown = null;
      try {
        const frames = readAll(stream, rng);
        // a flipped length may leave the last frame waiting for bytes that never come
        expect(frames.length, `seed ${seed} trial ${trial}: byte ${at}`).to.be.below(5);
      } catch (e) {
        err = e;
      }
      if (err) expect(err, `seed ${seed} trial ${trial}`).to.be.instanceOf(ProtocolError);
    }
  });

  it('an oversized frame is refused before anything is added', () => {
    const batch = new FrameBatch();
    expect(() => batch.add(MSG.UPDATE, 1, [Buffer.alloc(FRAME_PAYLOAD_MAX + 1)])).to.throw(ProtocolError, /over the/);
    expect(batch.bytes).to.equal(0);
  });

  it('UPDATE headers round-trip 64-bit fields and refuse unsafe ones', () => {
    const u = { volumeId: 7, kind: 'write' as const, track: 2 ** 40 + 3, count: 2, seq: 2 ** 53 - 1, timestampMs: 1_760_000_000_123 };
    const p = Buffer.concat([encodeUpdateHeader(u), Buffer.alloc(2 * 4096, 5)]);
    const d = decodeUpdate(p, 4096);
    expect({ ...d, data: null }).to.deep.equal({ ...u, data: null });
    expect(d.data!.length).to.equal(8192);
    const bad = Buffer.from(p);
    bad.writeUInt32LE(2 ** 21, 28); // seq >= 2^53
    expect(() => decodeUpdate(bad, 4096)).to.throw(ProtocolError, /impossible/);
  });

  it('frame CRCs agree with an independent CRC-32 (the crc-32 package), as does zlib.crc32 itself', () => {
    const seed = seedFrom(0xc3c3);
    const rng = new Prng(seed);
    const independent = (b: Uint8Array, seedCrc?: number): number => CRC32.buf(b, seedCrc) >>> 0;
    for (let i = 0; i < 200; i++) {
      const payload = bytes(rng, i < 3 ? i : rng.int(70_000));
      expect(crc32(payload), `seed ${seed}: zlib.crc32 of ${payload.length} bytes`).to.equal(independent(payload));
      const frame = encodeFrame(MSG.UPDATE, 1 + rng.int(1_000_000), payload);
      // the CRC covers the header with its own field as zeros, then the payload
      const covered = Buffer.concat([frame.subarray(0, 16), Buffer.alloc(4), frame.subarray(FRAME_HEADER_BYTES)]);
      expect(frame.readUInt32BE(16), `seed ${seed}: frame ${i}`).to.equal(independent(covered));
      expect(frame.readUInt32BE(16)).to.equal(independent(payload, CRC32.buf(covered.subarray(0, FRAME_HEADER_BYTES))));
    }
  });
});
