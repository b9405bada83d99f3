// `lsa inspect` of an array that `lsa serve` holds: read without the lock and without
// writing (--watch always, plain inspect when the lock is taken), the same views as when
// the array is free; --watch --count N prints N refreshes into a pipe, separated by a line.

import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ArrayDescription } from '../../src/cli/inspect/describe-array';
import type { SegmentReport } from '../../src/cli/inspect/segment-report';
import type { TrackReport } from '../../src/cli/inspect/track-report';
import { lsaJson, runLsa } from '../support/cli-capture';
import { TRACK_BYTES, makeInspectArray, trackPattern } from '../support/inspect-array';
import { MAIN_JS, ServerProcess, runAsync } from '../support/serve-process';
import { tmpDir } from '../support/tmp';

/** Name, size and modification time of every file in the folder. The WAL index (-shm) is
 * shared memory that every SQLite reader takes its read lock in, by design: only its
 * presence counts. */
function folderState(dir: string): string[] {
  return fs.readdirSync(dir).sort().map((name) => {
    if (name.endsWith('-shm')) return name;
    const st = fs.statSync(path.join(dir, name));
    return `${name} ${st.size} ${st.mtimeMs}`;
  });
}

describe('lsa inspect of an array in use (read-only view)', function () {
  this.timeout(60_000);
  let t: ReturnType<typeof tmpDir>;
  let dir: string;
  let server: ServerProcess | null = null;

  before(async () => {
    t = tmpDir('lsa-inspect-watch-');
    dir = path.join(t.dir, 'a');
    await makeInspectArray(dir);
  });

  afterEach(async () => {
    await server?.stop('SIGKILL').catch(() => undefined);
    server = null;
  });

  after(() => t.cleanup());

  it('--watch --count 2 and the other views work while lsa serve holds the array, and write nothing', async () => {
    server = await ServerProcess.start(['--dir', dir]);
    const pid = server.child.pid!;
    expect(fs.readFileSync(path.join(dir, 'lock'), 'utf8').trim()).to.equal(String(pid));
    const before = folderState(dir);

    const watched = await runAsync(process.execPath, [MAIN_JS, 'inspect', '--dir', dir, '--watch', '--count', '2'], 30_000);
    expect(watched.code, watched.stderr).to.equal(0);
    const refreshes = watched.stdout.split('\n').filter((l) => /^---- refresh \d+ at \S+ ----$/.test(l));
    expect(refreshes).to.have.length(2);
    expect(watched.stdout.match(/^array /gm)).to.have.length(2);
    expect(watched.stdout).to.contain(`read-only (array in use by PID ${pid})`);
    expect(watched.stdout).to.contain('10/256 tracks hold data');

    // without --watch, the lock held by a live process makes inspect peek instead of failing
    const info = await lsaJson<ArrayDescription>(['inspect', '--dir', dir]);
    expect(info.access).to.deep.equal({ mode: 'read-only', heldByPid: pid });
    expect(info.volumes[0]).to.include({ name: 'vol0', allocatedTracks: 10 });
    const track = await lsaJson<TrackReport>(['inspect', '--dir', dir, '--volume', 'vol0', '--track', '5']);
    expect(track.state).to.equal('data');
    expect(track.record).to.include({ matchesEntry: true, crcOk: true });
    const fd = fs.openSync(track.location!.diskPath, 'r');
    const payload = Buffer.alloc(TRACK_BYTES);
    fs.readSync(fd, payload, 0, TRACK_BYTES, track.location!.payloadFileOffset);
    fs.closeSync(fd);
    expect(payload.equals(Buffer.alloc(TRACK_BYTES, trackPattern(5)))).to.equal(true);
    const seg = await lsaJson<SegmentReport>(['inspect', '--dir', dir, '--segment', String(track.entry!.segment)]);
    expect(seg.access.mode).to.equal('read-only');
    expect(seg.summary.scannedLiveBytes).to.equal(seg.liveBytes);
    const json = await runLsa(['inspect', '--dir', dir, '--watch', '--count', '2', '--json']);
    expect(json.code, json.err).to.equal(0);
    const lines = json.out.trim().split('\n');
    expect(lines).to.have.length(2);
    for (const l of lines) expect((JSON.parse(l) as ArrayDescription).access.heldByPid).to.equal(pid);

    // the server was idle: nothing in the folder changed (no lock, no WAL files, no writes)
    expect(folderState(dir)).to.deep.equal(before);
    expect(await server.stop('SIGTERM')).to.equal(0);
    server = null;
  });

  it('--watch on an array nobody holds creates no files either', async () => {
    const idle = path.join(t.dir, 'idle');
    await makeInspectArray(idle);
    const before = folderState(idle);
    expect(before.some((l) => l.startsWith('lock ') || l.includes('-wal') || l.includes('-shm'))).to.equal(false);
    const r = await runLsa(['inspect', '--dir', idle, '--watch', '--count', '1', '--volume', 'vol0', '--track', '3']);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.contain('read-only (array not locked)').and.to.contain('hexdump -C -s ');
    expect(folderState(idle)).to.deep.equal(before);
  });
});
