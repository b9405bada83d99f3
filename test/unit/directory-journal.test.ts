// The directory in NVRAM as pages plus a log of changed entries (src/lsa/directory-journal.ts):
// after any commit, a reopen (clean or abandoned) rebuilds exactly the directory of that commit;
// the log stays short; a schema 1 file (pages only) opens; a damaged log row is refused with the
// recovery command. Replay a failure with LSA_SEED=<seed> npm test -- directory-journal.

import { expect } from 'chai';
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FOLD_SPAN } from '../../src/lsa/directory-journal';
import { createArray, openArray } from '../../src/lsa/open-array';
import { rebuildDirectory } from '../../src/lsa/rebuild-directory';
import { NVRAM_FILE } from '../../src/lsa/sqlite-nvram';
import type { LsaEngine } from '../../src/lsa/engine';
import { Prng } from '../../src/util/prng';
import { volumeByName } from '../../src/volume/volume';
import { VolumeModel } from '../support/model';
import { expectVolumeEquals, SMALL } from '../support/harness';
import { seedFrom, tmpDir } from '../support/tmp';

const TRACK = 4096;

function directoryWords(engine: LsaEngine): Buffer {
  const v = engine.volumesByName.get('vol0')!;
  return Buffer.from(v.directory.words.buffer, v.directory.words.byteOffset, v.tracks * 32);
}

function logRows(dir: string): number {
  const db = new Database(path.join(dir, NVRAM_FILE), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM directory_log').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('directory journal: pages and a log of changed entries in NVRAM', function () {
  this.timeout(300_000);

  it('random and sequential writes, trims, 600 commits: every reopen (clean or abandoned) gives the committed directory back, and the log stays short', async () => {
    const seed = seedFrom(31);
    const info = `seed ${seed}`;
    console.log(`      ${info} (replay: LSA_SEED=${seed} npm test -- directory-journal)`);
    const rng = new Prng(seed);
    const t = tmpDir();
    try {
      const capacity = 4 * 1024 * 1024; // 1024 tracks, 8 directory pages
      let engine = await createArray(t.dir, { geometry: { ...SMALL, diskBytes: 32 * 1024 * 1024 }, volume: { name: 'vol0', capacityBytes: capacity } });
      const model = new VolumeModel(capacity);
      const tracks = capacity / TRACK;
      let maxLog = 0;
      for (let commit = 0; commit < 600; commit++) {
        const v = volumeByName(engine, 'vol0');
        const kind = rng.int(10);
        if (kind < 7) {
          for (let k = rng.range(1, 8); k > 0; k--) {
            const data = rng.fill(Buffer.alloc(TRACK));
            const off = rng.int(tracks) * TRACK;
            await v.write(off, data);
            model.write(off, data);
          }
        } else if (kind < 9) {
          // a run long enough that its pages are written whole
          const n = rng.range(16, 300);
          const off = rng.int(tracks - n) * TRACK;
          const data = rng.fill(Buffer.alloc(n * TRACK));
          await v.write(off, data);
          model.write(off, data);
        } else {
          const n = rng.range(1, 40);
          const off = rng.int(tracks - n) * TRACK;
          await v.trim(off, n * TRACK);
          model.zero(off, n * TRACK);
        }
        await v.flush();
        maxLog = Math.max(maxLog, engine.journal.pagesInLog);
        if (rng.chance(0.03)) {
          const want = Buffer.from(directoryWords(engine));
          if (rng.chance(0.5)) await engine.close();
          else await engine.abandon(); // nothing after the last commit reaches NVRAM
          engine = await openArray(t.dir);
          expect(directoryWords(engine).equals(want), `${info} commit ${commit}: the directory after reopen`).to.equal(true);
        }
      }
      await expectVolumeEquals(volumeByName(engine, 'vol0'), model, info);
      await engine.close();
      const rows = logRows(t.dir);
      console.log(`      at most ${maxLog} pages in the log; ${rows} log rows at the end`);
      expect(maxLog).to.be.at.most(8);
      // each commit folds the oldest page: the log reaches back about as many commits as
      // there are pages in it, never FOLD_SPAN here
      expect(rows).to.be.at.most(8 + 1);
      expect(rows).to.be.lessThan(FOLD_SPAN);
    } finally {
      t.cleanup();
    }
  });

  it('a schema 1 file (directory pages only, no log) opens and reads right, and is written as schema 2 from then on', async () => {
    const t = tmpDir();
    try {
      const capacity = 1024 * 1024;
      let engine = await createArray(t.dir, { geometry: SMALL, volume: { name: 'vol0', capacityBytes: capacity } });
      const data = new Prng(3).fill(Buffer.alloc(capacity));
      await volumeByName(engine, 'vol0').write(0, data);
      await engine.close();
      // what a build before the log left: every page whole, no commit_no column, no log table
      engine = await openArray(t.dir);
      const pages = [...Array(engine.volumesByName.get('vol0')!.directory.pages).keys()].map((p) => engine.volumesByName.get('vol0')!.directory.pageBytes(p));
      await engine.close();
      const db = new Database(path.join(t.dir, NVRAM_FILE));
      db.exec(`DROP TABLE directory_log; DROP TABLE directory_pages;
        CREATE TABLE directory_pages (volume_id INTEGER NOT NULL, page_no INTEGER NOT NULL, entries BLOB NOT NULL, PRIMARY KEY (volume_id, page_no)) WITHOUT ROWID;`);
      const put = db.prepare('INSERT INTO directory_pages VALUES (1, ?, ?)');
      pages.forEach((bytes, pageNo) => put.run(pageNo, bytes));
      db.close();
      engine = await openArray(t.dir);
      const model = new VolumeModel(capacity);
      model.write(0, data);
      await expectVolumeEquals(volumeByName(engine, 'vol0'), model, 'schema 1');
      const more = new Prng(4).fill(Buffer.alloc(TRACK));
      await volumeByName(engine, 'vol0').write(5 * TRACK, more);
      model.write(5 * TRACK, more);
      await engine.close();
      engine = await openArray(t.dir);
      await expectVolumeEquals(volumeByName(engine, 'vol0'), model, 'schema 1, then a write');
      await engine.close();
    } finally {
      t.cleanup();
    }
  });

  it('a damaged log row is refused at open with the recovery command, nothing changed; recover rebuilds the directory from the records', async () => {
    const t = tmpDir();
    try {
      const capacity = 1024 * 1024;
      let engine = await createArray(t.dir, { geometry: SMALL, volume: { name: 'vol0', capacityBytes: capacity } });
      const model = new VolumeModel(capacity);
      const rng = new Prng(9);
      for (let k = 0; k < 5; k++) {
        const data = rng.fill(Buffer.alloc(TRACK));
        await volumeByName(engine, 'vol0').write(k * 7 * TRACK, data);
        model.write(k * 7 * TRACK, data);
      }
      await engine.close();
      for (const [what, entries] of [['a cut row', Buffer.alloc(41)], ['a track past the end', Buffer.concat([Buffer.from([1, 0, 0, 0, 0xff, 0xff, 0, 0]), Buffer.alloc(32)])]] as const) {
        const db = new Database(path.join(t.dir, NVRAM_FILE));
        db.prepare('INSERT OR REPLACE INTO directory_log VALUES (1000000, ?)').run(entries);
        db.close();
        const before = fs.readFileSync(path.join(t.dir, NVRAM_FILE));
        let err: unknown = null;
        try {
          await openArray(t.dir);
        } catch (e) {
          err = e;
        }
        expect(fs.readFileSync(path.join(t.dir, NVRAM_FILE)).equals(before), `${what}: the file is unchanged`).to.equal(true);
        expect(err, what).to.be.instanceOf(Error);
        expect((err as Error).message, what).to.match(/directory log row 1000000/).and.to.match(/lsa recover --dir .* --rebuild-directory/);
      }
      await rebuildDirectory(t.dir);
      engine = await openArray(t.dir);
      await expectVolumeEquals(volumeByName(engine, 'vol0'), model, 'after recover');
      await engine.close();
      expect(logRows(t.dir)).to.equal(0);
    } finally {
      t.cleanup();
    }
  });
});
