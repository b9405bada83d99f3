// One-shot commands on a secondary (lsa write, lsa gc) run the collector; it must keep and
// move the records only a snapshot still points at. A tiny real array is overwritten several
// times by `lsa write` after a snapshot: the snapshot must still read as the old content.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { checkArray } from '../../src/lsa/check';
import { createArray } from '../../src/lsa/open-array';
import { createVolume, usableBytes } from '../../src/lsa/volumes';
import { openCommandArray } from '../../src/cli/open-command-array';
import { SnapshotStore, snapshotPins } from '../../src/snapshot/snapshot-store';
import { SnapshotVolume } from '../../src/snapshot/snapshot-volume';
import { silentLogger } from '../../src/util/log';
import { Prng } from '../../src/util/prng';
import { volumeByName } from '../../src/volume/volume';
import { runLsa } from '../support/cli-capture';
import { seedFrom, tmpDir } from '../support/tmp';

const TINY = { disks: 4, columnBytes: 32 * 1024, diskBytes: 2 * 1024 * 1024, trackBytes: 4096 };

describe('snapshots survive the collector of one-shot commands', function () {
  this.timeout(120_000);

  it('lsa write overwriting the volume 4 times keeps a snapshot readable and check clean', async () => {
    const seed = seedFrom(71);
    const rng = new Prng(seed);
    const t = tmpDir();
    try {
      const engine = await createArray(t.dir, { geometry: TINY, nvram: 'sqlite', volume: null, pins: snapshotPins(silentLogger) });
      // room for the volume, its snapshot's records and a little slack
      const capacity = Math.floor((usableBytes(engine) * 0.25) / 4096) * 4096;
      await createVolume(engine, 'vol0', capacity, 'none');
      const old = rng.fill(Buffer.alloc(capacity));
      await volumeByName(engine, 'vol0').write(0, old);
      await engine.flush();
      const store = SnapshotStore.of(engine);
      await store.take({ id: 1, volumes: ['vol0'], name: 'before', barrier: 1 });
      await engine.close();

      const file = path.join(t.dir, 'new.bin');
      for (let round = 0; round < 4; round++) {
        fs.writeFileSync(file, rng.fill(Buffer.alloc(capacity)));
        const r = await runLsa(['write', '--dir', t.dir, '--volume', 'vol0', '--offset', '0', file]);
        expect(r.code, `seed ${seed}, round ${round}: ${r.err}`).to.equal(0);
      }
      const after = await openCommandArray(t.dir);
      try {
        expect(after.stats.segmentsCollected, 'the collector ran during the writes').to.be.greaterThan(0);
        const snaps = after.pins as SnapshotStore;
        const got = await new SnapshotVolume(after, snaps.get('vol0', 'before')).read(0, capacity);
        expect(got.equals(old), `seed ${seed}: the snapshot still reads as the content it was taken of`).to.equal(true);
        const current = await volumeByName(after, 'vol0').read(0, capacity);
        expect(current.equals(fs.readFileSync(file)), `seed ${seed}: the volume reads as the last write`).to.equal(true);
        expect((await checkArray(after)).problems).to.deep.equal([]);
      } finally {
        await after.close();
      }
    } finally {
      t.cleanup();
    }
  });
});
