// Snapshot files and names are input like any other. A snapshot file with good CRCs but a
// header or entries out of range (a segment past the disks, a field that is not a number, a
// name that is not its file's) is a CorruptionError naming the file: the secondary starts
// anyway, serves its other snapshots, says one warn line per bad file, and lsa check reports
// each. Names given to commands are checked before they become paths: "../../../evil" never
// leaves the snapshots folder. (Before: a crafted file crashed the secondary with a TypeError,
// and lsa snapshot diff --name ../../../evil read a file outside the array.)

import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../src/io/durable-files';
import { ensureKeyFile, KEY_FILE } from '../../src/io/key-file';
import { ENTRY_WORDS } from '../../src/lsa/directory';
import { openArray } from '../../src/lsa/open-array';
import { encodeSnapshot, type SnapshotHeader } from '../../src/snapshot/snapshot-file';
import { NbdTestClient } from '../support/nbd-client';
import { freePorts, lsa } from '../support/pair-processes';
import { makeArray, ServerProcess } from '../support/serve-process';
import { tmpDir } from '../support/tmp';

const GEOMETRY = { disks: 4, columnBytes: 256 * 1024, diskBytes: 16 * 1024 * 1024, trackBytes: 4096 };
const VOLUME_BYTES = 4 * 1024 * 1024;

interface Craft {
  name: string;
  header?: Partial<Record<keyof SnapshotHeader, unknown>>;
  entry?: { track: number; segment: number; slot: number; recordBytes: number };
}

/** A snapshot file of vol0 whose CRCs are right, whatever its content says. */
async function writeSnapshot(dir: string, c: Craft): Promise<string> {
  const engine = await openArray(dir, { gcPolicy: false });
  const v = engine.volumesByName.get('vol0')!;
  const tracks = v.tracks;
  const words = new Uint32Array(Math.ceil(tracks / 128) * 128 * ENTRY_WORDS);
  if (c.entry) {
    const w = c.entry.track * ENTRY_WORDS;
    words[w] = c.entry.segment;
    words[w + 1] = c.entry.slot;
    words[w + 2] = c.entry.recordBytes;
    words[w + 6] = 1;
  }
  const header = {
    name: c.name, volume: 'vol0', volumeId: v.row.id, capacityBytes: v.row.capacityBytes, trackBytes: engine.layout.trackBytes,
    geometry: engine.layout.geometry, barrierSeq: 0, createdAtMs: 1, allocatedEntries: c.entry ? 1 : 0, ...c.header,
  } as SnapshotHeader;
  await engine.close();
  const file = path.join(dir, 'snapshots', 'vol0', `${c.name}.snap`);
  await writeFileAtomic(file, encodeSnapshot(header, words, tracks));
  return file;
}

describe('security: hostile snapshot files and names', function () {
  this.timeout(120_000);
  let t: ReturnType<typeof tmpDir>;
  let dir = '';
  const bad: string[] = [];

  before(async () => {
    t = tmpDir();
    dir = path.join(t.dir, 'secondary');
    await makeArray(dir, [['vol0', VOLUME_BYTES]], GEOMETRY);
    ensureKeyFile(path.join(dir, KEY_FILE));
    await writeSnapshot(dir, { name: 'good' });
    bad.push(await writeSnapshot(dir, { name: 'far', entry: { track: 3, segment: 1_000_000, slot: 0, recordBytes: 4144 } }));
    bad.push(await writeSnapshot(dir, { name: 'slot', entry: { track: 5, segment: 2, slot: 3 * 256 * 1024, recordBytes: 4144 } }));
    bad.push(await writeSnapshot(dir, { name: 'nan', header: { barrierSeq: 'soon' } }));
    bad.push(await writeSnapshot(dir, { name: 'liar', header: { name: 'other' } }));
    bad.push(await writeSnapshot(dir, { name: 'shape', header: { geometry: { disks: 'four' } } }));
  });

  after(() => t.cleanup());

  it('the secondary starts anyway, one warn line per damaged file, and serves the good snapshot', async () => {
    const [replica] = await freePorts(1);
    const s = await ServerProcess.start(['--dir', dir, '--replica-listen', `127.0.0.1:${replica}`]);
    try {
      await s.waitFor(/replica link listening/, 20_000);
      const warns = s.log.split('\n').filter((l) => /damaged snapshot file skipped/.test(l));
      expect(warns.length, s.log).to.equal(bad.length);
      for (const f of bad) expect(warns.filter((l) => l.includes(f)).length, f).to.equal(1);
      expect(s.log).to.not.match(/TypeError|internal error/);
      const c = await NbdTestClient.open(s.port, { exportName: 'vol0@good' });
      expect(c.size).to.equal(VOLUME_BYTES);
      expect((await c.read(0, 4096)).data!.equals(Buffer.alloc(4096))).to.equal(true);
      await c.disconnect();
    } finally {
      expect(await s.stop('SIGTERM')).to.equal(0);
    }
  });

  it('lsa check reports each damaged file (exit 1), lsa snapshot list marks them', async () => {
    const check = await lsa(['check', '--dir', dir, '--json']);
    expect(check.code, check.stderr).to.equal(1);
    const report = JSON.parse(check.stdout) as { problems: { kind: string; message: string }[] };
    const found = report.problems.filter((p) => p.kind === 'bad-snapshot');
    expect(found.length, check.stdout).to.equal(bad.length);
    const says = (name: string, re: RegExp): void => {
      const p = found.find((x) => x.message.includes(`${name}.snap`));
      expect(p, name).to.not.equal(undefined);
      expect(p!.message).to.match(re);
    };
    says('far', /track 3 points at segment 1000000; the disks hold segments 1 to 63/);
    says('slot', /track 5: slot 786432 \+ 4144 bytes is outside a segment's 786432 data bytes/);
    says('nan', /"barrierSeq" is not a sequence number/);
    says('liar', /names snapshot "other", its file name "liar"/);
    says('shape', /"geometry\.disks" is not a positive whole number/);
    const list = await lsa(['snapshot', 'list', '--dir', dir]);
    expect(list.code).to.equal(65);
    expect(list.stdout.split('\n').filter((l) => /DAMAGED/.test(l)).length).to.equal(bad.length);
  });

  it('names are checked before they become paths: --name ../../../evil and --volume ../x are refused', async () => {
    // a file where ../../../evil would lead from snapshots/vol0/
    fs.copyFileSync(path.join(dir, 'snapshots', 'vol0', 'good.snap'), path.join(t.dir, 'evil.snap'));
    const diff = await lsa(['snapshot', 'diff', '--dir', dir, '--volume', 'vol0', '--name', '../../../evil']);
    expect(diff.code, diff.stdout + diff.stderr).to.equal(64);
    expect(diff.stderr).to.match(/--name "\.\.\/\.\.\/\.\.\/evil" is not a snapshot name/);
    const runs: string[][] = [
      ['snapshot', 'diff', '--dir', dir, '--volume', '../x', '--name', 'good'],
      ['snapshot', 'export', '--dir', dir, '--volume', 'vol0', '--name', '../good', '--out', path.join(t.dir, 'x.img')],
      ['snapshot', 'delete', '--dir', dir, '--volume', '../../x', '--name', 'good'],
      ['snapshot', 'create', '--volume', 'a/b', '--control', '127.0.0.1:1', '--token-file', '/dev/null'],
      ['read', '--dir', dir, '--volume', '../vol0', '--offset', '0', '--length', '1'],
    ];
    for (const args of runs) {
      const r = await lsa(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(64);
      expect(r.stderr, args.join(' ')).to.match(/is not a (volume|snapshot) name/);
    }
    expect(fs.existsSync(path.join(t.dir, 'x.img'))).to.equal(false);
  });
});
