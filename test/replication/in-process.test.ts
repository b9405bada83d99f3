// Remote copy between two engines in one process over real TCP: duplex under random writes in
// both modes, link cuts, corrupted and replayed frames, a wrong key, and a resync that ships
// only the out-of-sync tracks.

import { expect } from 'chai';
import { checkArray } from '../../src/lsa/check';
import { Prng } from '../../src/util/prng';
import { applyHostOp, randomOp } from '../../src/testing/workload';
import { volumeByName } from '../../src/volume/volume';
import { closeRepRig, makeRepRig, volumesEqual, waitDuplex, waitFor } from '../support/replication-rig';
import { seedFrom, tmpDir } from '../support/tmp';

const CAPACITY = 2 * 1024 * 1024;

async function randomWrites(rig: Awaited<ReturnType<typeof makeRepRig>>, rng: Prng, ops: number): Promise<void> {
  const v = volumeByName(rig.primary, 'vol0');
  const shape = { sizeBytes: CAPACITY, trackBytes: 4096, tracksMax: 8 };
  for (let i = 0; i < ops; i++) {
    await applyHostOp(v, randomOp(rng, shape));
  }
  await v.flush();
}

describe('replication in one process', function () {
  this.timeout(120_000);
  for (const mode of ['sync', 'async'] as const) {
    it(`${mode}: random writes keep the pair duplex and the volumes equal`, async () => {
      const seed = seedFrom(41);
      const t = tmpDir();
      try {
        const rig = await makeRepRig(t.dir, mode, CAPACITY);
        await waitDuplex(rig);
        await randomWrites(rig, new Prng(seed), 800);
        await waitDuplex(rig);
        expect(await volumesEqual(rig), `seed ${seed}`).to.equal(-1);
        expect((await checkArray(rig.secondary)).problems).to.deep.equal([]);
        await closeRepRig(rig);
      } finally {
        t.cleanup();
      }
    });
  }

  it('link cuts, corrupted frames and a replayed frame: the pair comes back to duplex by itself, volumes equal', async () => {
    const seed = seedFrom(42);
    const rng = new Prng(seed);
    const t = tmpDir();
    try {
      const rig = await makeRepRig(t.dir, 'sync', CAPACITY);
      await waitDuplex(rig);
      for (let round = 0; round < 6; round++) {
        const writes = randomWrites(rig, rng, 150);
        await new Promise((r) => setTimeout(r, rng.range(1, 30)));
        if (round % 3 === 0) rig.proxy.cut();
        else if (round % 3 === 1) {
          let once = true;
          rig.proxy.tamper = (d) => {
            if (!once || d.length < 40) return d;
            once = false;
            const x = Buffer.from(d);
            x[30] ^= 0x55; // flip a bit inside some frame
            return x;
          };
        } else {
          let last: Buffer | null = null;
          rig.proxy.tamper = (d) => {
            const out = last ? Buffer.concat([d, last]) : d; // replays an earlier chunk
            last = last ?? Buffer.from(d);
            return out;
          };
        }
        await writes;
        rig.proxy.tamper = null;
        await waitDuplex(rig);
        const diff = await volumesEqual(rig);
        expect(diff, `seed ${seed} round ${round}`).to.equal(-1);
      }
      expect((await checkArray(rig.secondary)).problems).to.deep.equal([]);
      await closeRepRig(rig);
    } finally {
      t.cleanup();
    }
  });

  it('a resync after an outage ships only the out-of-sync tracks', async () => {
    const t = tmpDir();
    try {
      const rig = await makeRepRig(t.dir, 'async', CAPACITY);
      const v = volumeByName(rig.primary, 'vol0');
      const rng = new Prng(7);
      await v.write(0, rng.fill(Buffer.alloc(CAPACITY)));
      await waitDuplex(rig);
      rig.proxy.blocked = true;
      rig.proxy.cut();
      await waitFor('suspended', () => rig.replicator.status()[0].state === 'suspended');
      const before = rig.replicator.status()[0].bytesShipped;
      // change 50 distinct tracks while the link is down
      const tracks = new Set<number>();
      while (tracks.size < 50) tracks.add(rng.int(CAPACITY / 4096));
      for (const tr of tracks) await v.write(tr * 4096, rng.fill(Buffer.alloc(4096)));
      await v.flush();
      expect(rig.replicator.status()[0].outOfSyncTracks).to.equal(50);
      rig.proxy.blocked = false;
      await waitDuplex(rig);
      const shipped = rig.replicator.status()[0].bytesShipped - before;
      console.log(`      resync shipped ${shipped} bytes for 50 changed tracks (${50 * 4096} bytes)`);
      expect(shipped).to.be.within(50 * 4096, 50 * 4096 * 1.1);
      expect(await volumesEqual(rig)).to.equal(-1);
      await closeRepRig(rig);
    } finally {
      t.cleanup();
    }
  });

  it('a wrong key is refused on both sides and nothing is written', async () => {
    const t = tmpDir();
    try {
      const rig = await makeRepRig(t.dir, 'sync', CAPACITY);
      await waitDuplex(rig);
      await rig.replicator.stop();
      const { PrimaryReplicator } = await import('../../src/replication/primary.js');
      const lines: string[] = [];
      const log = { ...(await import('../../src/util/log.js')).silentLogger, error: (m: string) => lines.push(m), warn: (m: string) => lines.push(m) };
      const bad = new PrimaryReplicator(rig.primary, { host: '127.0.0.1', port: rig.proxy.port, key: Buffer.alloc(32, 1), mode: 'sync', lagMaxBytes: 1 << 20, log: { ...log, child: () => log as never } as never, reconnectMs: 50 });
      bad.start();
      await volumeByName(rig.primary, 'vol0').write(0, Buffer.alloc(4096, 9));
      await new Promise((r) => setTimeout(r, 300));
      expect(bad.connected).to.equal(false);
      expect(lines.join('\n')).to.match(/authentication|key/);
      const sec = await volumeByName(rig.secondary, 'vol0').read(0, 4096);
      expect(sec.equals(Buffer.alloc(4096, 9))).to.equal(false);
      await bad.stop();
      await closeRepRig(rig);
    } finally {
      t.cleanup();
    }
  });

  it('bursts of large updates on a small secondary: the collector makes room, the link never fails for space', async () => {
    const t = tmpDir();
    try {
      const volumeBytes = 8 * 1024 * 1024; // a third of the secondary's data space
      const lines: string[] = [];
      const { silentLogger } = await import('../../src/util/log.js');
      const log = { ...silentLogger, warn: (m: string, f?: Record<string, unknown>) => lines.push(`${m} ${JSON.stringify(f ?? {})}`) };
      const rig = await makeRepRig(t.dir, 'async', volumeBytes, { log: { ...log, child: () => log } as never, gcPolicy: 'greedy' });
      await waitDuplex(rig);
      const v = volumeByName(rig.primary, 'vol0');
      const rng = new Prng(11);
      const data = rng.fill(Buffer.alloc(1024 * 1024));
      // one write at a time on the primary (the secondary still gets them in bursts: async)
      for (let pass = 0; pass < 6; pass++) {
        for (let off = 0; off < volumeBytes; off += data.length) {
          data[0] = pass;
          await v.write(off, data);
        }
        await v.flush();
      }
      await waitDuplex(rig, 60_000);
      expect(lines.join('\n')).to.not.match(/no free segment|is full/);
      expect(await volumesEqual(rig)).to.equal(-1);
      expect((await checkArray(rig.secondary)).problems).to.deep.equal([]);
      await closeRepRig(rig);
    } finally {
      t.cleanup();
    }
  });
});
