// A relay between the primary and the secondary (real TCP, both engines in this process):
// one that records every byte it forwards, and one that changes data on the way. With TLS on
// (the default) the recording holds none of a known written pattern, and a changed byte makes
// the link drop and resync: the change never reaches the secondary's volume. The same relays
// against --replica-tls off show what TLS is for: the pattern in the clear, and a changed
// UPDATE (its CRC fixed up: a CRC is no MAC) applied on the secondary.

import { expect } from 'chai';
import { checkArray } from '../../src/lsa/check';
import { sealFrame } from '../../src/replication/frame';
import { MSG } from '../../src/replication/messages';
import { Prng } from '../../src/util/prng';
import { volumeByName } from '../../src/volume/volume';
import { closeRepRig, makeRepRig, volumesEqual, waitDuplex, type RepRig } from '../support/replication-rig';
import { seedFrom, tmpDir } from '../support/tmp';

const CAPACITY = 2 * 1024 * 1024;
const TRACK = 4096;
const MARK = Buffer.from('LSA-SECRET-MARK!'); // 16 bytes

/** 64 tracks of the marker, written and flushed. */
async function writePattern(rig: RepRig): Promise<Buffer> {
  const pattern = Buffer.alloc(64 * TRACK);
  for (let at = 0; at < pattern.length; at += MARK.length) MARK.copy(pattern, at);
  const v = volumeByName(rig.primary, 'vol0');
  await v.write(0, pattern);
  await v.flush();
  return pattern;
}

function contains(recorded: Buffer[], what: Buffer): boolean {
  return Buffer.concat(recorded).indexOf(what) >= 0;
}

/** A relay's change to the primary's stream: in plain frames, one data byte of the first
 * UPDATE after arming, with the CRC computed again; in TLS records, one byte. */
function changeOneByte(rig: RepRig): { arm(): void; changed(): boolean } {
  let armed = false;
  let done = false;
  rig.proxy.frameTamper = (f) => {
    if (!armed || done) return [f];
    const isFrame = f.length >= 20 && f.readUInt32BE(0) === 0x4c535243;
    if (isFrame && f.readUInt8(5) === MSG.UPDATE && f.length >= 20 + 40 + TRACK) {
      const x = Buffer.from(f);
      x[20 + 40 + 100] ^= 0xff;
      sealFrame(x, 0, MSG.UPDATE, x.readUInt32BE(8), x.length - 20);
      done = true;
      return [x];
    }
    if (!isFrame && f.length > 64) {
      const x = Buffer.from(f);
      x[x.length - 1] ^= 0x01;
      done = true;
      return [x];
    }
    return [f];
  };
  return { arm: () => (armed = true), changed: () => done };
}

/** Writes `tracks` distinct tracks once each (nothing rewrites them), flushed. */
async function writeDistinct(rig: RepRig, rng: Prng, first: number, tracks: number): Promise<void> {
  const v = volumeByName(rig.primary, 'vol0');
  for (let t = first; t < first + tracks; t++) await v.write(t * TRACK, rng.fill(Buffer.alloc(TRACK)));
  await v.flush();
}

describe('security: a relay between the pair', function () {
  this.timeout(120_000);

  it('recording relay: with TLS none of a written pattern crosses the wire; with --replica-tls off it does', async () => {
    for (const tls of [true, false]) {
      const t = tmpDir();
      try {
        const rig = await makeRepRig(t.dir, 'sync', CAPACITY, { tls });
        await waitDuplex(rig);
        rig.proxy.recorded = [];
        const pattern = await writePattern(rig);
        await waitDuplex(rig);
        const onSecondary = await volumeByName(rig.secondary, 'vol0').read(0, pattern.length);
        expect(onSecondary.equals(pattern), 'the pattern reached the secondary').to.equal(true);
        const bytes = rig.proxy.recorded.reduce((n, b) => n + b.length, 0);
        expect(bytes, 'the relay forwarded the writes').to.be.greaterThan(pattern.length);
        console.log(`      TLS ${tls ? 'on' : 'off'}: the relay forwarded ${bytes} bytes; marker seen: ${contains(rig.proxy.recorded, MARK)}`);
        expect(contains(rig.proxy.recorded, MARK), `TLS ${tls ? 'on' : 'off'}`).to.equal(!tls);
        await closeRepRig(rig);
      } finally {
        t.cleanup();
      }
    }
  });

  /** Writes 32 tracks, arms the relay, writes 128 more (each once, so nothing hides the
   * change by rewriting it), waits for duplex. */
  async function underAttack(seed: number, tls: boolean): Promise<{ changed: boolean; reconnected: boolean; firstDifference: number; problems: unknown[] }> {
    const t = tmpDir();
    try {
      const rig = await makeRepRig(t.dir, 'sync', CAPACITY, { tls });
      await waitDuplex(rig);
      await writeDistinct(rig, new Prng(seed), 0, 32);
      await waitDuplex(rig);
      const connectionsBefore = rig.proxy.connections;
      const attack = changeOneByte(rig);
      attack.arm();
      await writeDistinct(rig, new Prng(seed + 1), 32, 128);
      await waitDuplex(rig);
      const outcome = { changed: attack.changed(), reconnected: rig.proxy.connections > connectionsBefore, firstDifference: await volumesEqual(rig), problems: (await checkArray(rig.secondary)).problems };
      await closeRepRig(rig);
      return outcome;
    } finally {
      t.cleanup();
    }
  }

  it('a relay that changes one byte after the handshake: with TLS the link drops and resyncs, the change is never applied', async () => {
    const seed = seedFrom(1401);
    const r = await underAttack(seed, true);
    expect(r.changed, 'the relay changed a byte').to.equal(true);
    expect(r.reconnected, 'the link dropped and came back').to.equal(true);
    expect(r.firstDifference, `seed ${seed}: volumes differ`).to.equal(-1);
    expect(r.problems).to.deep.equal([]);
  });

  it('the same relay against --replica-tls off changes the secondary\'s data undetected (why off is for measurements only)', async () => {
    const seed = seedFrom(1402);
    const r = await underAttack(seed, false);
    expect(r.changed).to.equal(true);
    expect(r.firstDifference, 'the changed UPDATE was applied').to.not.equal(-1);
  });
});
