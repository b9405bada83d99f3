// The snapshot relay in one process: the host asks the primary (HTTP control API), the
// secondary snapshots its duplicate at the barrier, the host gets the location. Each snapshot
// must equal the primary's content at its barrier, with the collector running on the secondary
// all the time; without --wait an update in progress is refused with 409.

import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { checkArray } from '../../src/lsa/check';
import { collectorOf } from '../../src/lsa/collector';
import { primaryControlApi } from '../../src/control/primary-control';
import type { UpdateEvent } from '../../src/lsa/engine-hooks';
import { SnapshotStore, snapshotPins } from '../../src/snapshot/snapshot-store';
import { SnapshotVolume } from '../../src/snapshot/snapshot-volume';
import { silentLogger } from '../../src/util/log';
import { Prng } from '../../src/util/prng';
import { volumeByName } from '../../src/volume/volume';
import { closeRepRig, makeRepRig, waitDuplex } from '../support/replication-rig';
import { seedFrom, tmpDir } from '../support/tmp';

/** The control API's credential here (the CLI reads it from DIR/control.token). */
const CONTROL_TOKEN = randomBytes(32).toString('hex');

const CAPACITY = 1024 * 1024;
const TB = 4096;

/** Every update the primary shipped, to know each track's content at any sequence. */
class History {
  private byTrack = new Map<string, { seq: number; data: Buffer | null }[]>();

  record(volume: string, u: UpdateEvent): void {
    for (let i = 0; i < u.count; i++) {
      const key = `${volume}/${u.track + i}`;
      const list = this.byTrack.get(key) ?? [];
      const seq = u.kind === 'write' ? u.seq + i : u.seq;
      list.push({ seq, data: u.kind === 'write' ? Buffer.from(u.data!.subarray(i * TB, (i + 1) * TB)) : null });
      this.byTrack.set(key, list);
    }
  }

  imageAt(volume: string, barrier: number, sizeBytes: number): Buffer {
    const out = Buffer.alloc(sizeBytes);
    for (let t = 0; t * TB < sizeBytes; t++) {
      const list = this.byTrack.get(`${volume}/${t}`) ?? [];
      let best: { seq: number; data: Buffer | null } | null = null;
      for (const x of list) if (x.seq <= barrier && (!best || x.seq > best.seq)) best = x;
      if (best?.data) best.data.copy(out, t * TB);
    }
    return out;
  }
}

async function post(port: number, path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${CONTROL_TOKEN}` }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('snapshot relay', function () {
  this.timeout(180_000);

  it('20 snapshots with --wait under continuous writes (collector running on the secondary) equal the primary at their barriers', async () => {
    const seed = seedFrom(61);
    const t = tmpDir();
    try {
      let store: SnapshotStore | null = null;
      const rig = await makeRepRig(t.dir, 'async', CAPACITY, { volumes: ['vol0', 'vol1'], takeSnapshot: (req) => store!.take(req), secondaryPins: snapshotPins(silentLogger) });
      store = SnapshotStore.of(rig.secondary);
      const history = new History();
      const names = new Map([...rig.primary.volumesById.values()].map((v) => [v.row.id, v.row.name]));
      const ship = rig.replicator.onUpdate.bind(rig.replicator);
      rig.replicator.onUpdate = (u) => {
        history.record(names.get(u.volumeId)!, u);
        return ship(u);
      };
      const api = primaryControlApi({ host: '127.0.0.1', port: 0, token: CONTROL_TOKEN, engine: rig.primary, replicator: rig.replicator, log: silentLogger });
      const { port } = await api.listen();
      await waitDuplex(rig);
      let writing = true;
      const rng = new Prng(seed);
      const writer = (async () => {
        const v0 = volumeByName(rig.primary, 'vol0');
        const v1 = volumeByName(rig.primary, 'vol1');
        while (writing) {
          const v = rng.chance(0.5) ? v0 : v1;
          const off = rng.int(CAPACITY - 3 * TB);
          const len = rng.range(1, 3 * TB);
          if (rng.chance(0.1)) await v.trim(off, len);
          else await v.write(off, rng.fill(Buffer.alloc(len)));
          if (rng.chance(0.2)) await v.flush();
        }
      })();
      let collecting = true;
      const gc = (async () => {
        const c = collectorOf(rig.secondary)!;
        while (collecting) {
          await c.collectBatch();
          await new Promise((r) => setTimeout(r, 2));
        }
      })();
      const results: { name: string; seq: number; volumes: string[] }[] = [];
      for (let i = 0; i < 20; i++) {
        const name = i % 4 === 0 ? 'latest' : `s${i}`;
        const r = await post(port, '/snapshots', { volumes: ['vol0', 'vol1'], name, wait: true, timeoutMs: 30_000 });
        expect(r.status, JSON.stringify(r.json)).to.equal(201);
        expect(r.json).to.include.keys('name', 'volumes', 'location', 'seq', 'entries', 'durationMs');
        // check at once: a later "latest" replaces this one
        for (const vol of ['vol0', 'vol1']) {
          const snap = new SnapshotVolume(rig.secondary, store.get(vol, name));
          const got = await snap.read(0, CAPACITY);
          const want = history.imageAt(vol, r.json.seq as number, CAPACITY);
          expect(got.equals(want), `seed ${seed}: snapshot ${name} of ${vol} at seq ${r.json.seq}`).to.equal(true);
        }
        results.push({ name, seq: r.json.seq as number, volumes: r.json.volumes as string[] });
      }
      writing = false;
      await writer;
      collecting = false;
      await gc;
      expect(rig.secondary.stats.segmentsCollected).to.be.greaterThan(0);
      // every named snapshot still equals its barrier after all that collection
      for (const r of results.filter((x) => x.name !== 'latest')) {
        for (const vol of r.volumes) {
          const got = await new SnapshotVolume(rig.secondary, store.get(vol, r.name)).read(0, CAPACITY);
          expect(got.equals(history.imageAt(vol, r.seq, CAPACITY)), `snapshot ${r.name} of ${vol} after collection`).to.equal(true);
        }
      }
      const report = await checkArray(rig.secondary);
      expect(report.problems).to.deep.equal([]);
      await api.close();
      await closeRepRig(rig);
    } finally {
      t.cleanup();
    }
  });

  it('without --wait: refused with 409 while updates are in flight, taken when duplex and drained', async () => {
    const t = tmpDir();
    try {
      let store: SnapshotStore | null = null;
      const rig = await makeRepRig(t.dir, 'async', CAPACITY, { takeSnapshot: (req) => store!.take(req), secondaryPins: snapshotPins(silentLogger) });
      store = SnapshotStore.of(rig.secondary);
      const api = primaryControlApi({ host: '127.0.0.1', port: 0, token: CONTROL_TOKEN, engine: rig.primary, replicator: rig.replicator, log: silentLogger });
      const { port } = await api.listen();
      await waitDuplex(rig);
      rig.proxy.blocked = true;
      rig.proxy.cut();
      await volumeByName(rig.primary, 'vol0').write(0, Buffer.alloc(8192, 7));
      const refused = await post(port, '/volumes/vol0/snapshots', { name: 'x' });
      expect(refused.status).to.equal(409);
      expect(String(refused.json.error)).to.match(/remote copy in progress; retry, or use --wait/);
      expect(store.list()).to.deep.equal([]);
      rig.proxy.blocked = false;
      await waitDuplex(rig);
      const ok = await post(port, '/volumes/vol0/snapshots', { name: 'x' });
      expect(ok.status, JSON.stringify(ok.json)).to.equal(201);
      expect(store.list().map((s) => s.name)).to.deep.equal(['x']);
      await api.close();
      await closeRepRig(rig);
    } finally {
      t.cleanup();
    }
  });
});
