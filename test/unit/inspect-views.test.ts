// `lsa inspect` views as JSON against an array with a known history: the array view's
// fields, --volume/--track and --offset (the hexdump offset really holds the track's bytes),
// a trimmed and a never-written track, --segment (columns, records live and garbage,
// accounting that adds up), and clear errors for bad arguments.

import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Layout } from '../../src/array/geometry';
import type { ArrayDescription } from '../../src/cli/inspect/describe-array';
import type { SegmentReport } from '../../src/cli/inspect/segment-report';
import type { TrackReport } from '../../src/cli/inspect/track-report';
import { lsaJson, runLsa } from '../support/cli-capture';
import { INSPECT_GEOMETRY, TRACK_BYTES, makeInspectArray, trackPattern } from '../support/inspect-array';
import { tmpDir } from '../support/tmp';

function readFileBytes(file: string, offset: number, length: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    fs.readSync(fd, buf, 0, length, offset);
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}

describe('lsa inspect views (JSON)', function () {
  this.timeout(60_000);
  const layout = new Layout(INSPECT_GEOMETRY);
  let t: ReturnType<typeof tmpDir>;
  let dir: string;

  before(async () => {
    t = tmpDir('lsa-inspect-views-');
    dir = path.join(t.dir, 'a');
    await makeInspectArray(dir);
  });

  after(() => t.cleanup());

  it('array view: geometry, health, segments, collector, pending, snapshots', async () => {
    fs.mkdirSync(path.join(dir, 'snapshots', 'vol0'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'snapshots', 'vol0', 'before-upgrade.snap'), Buffer.alloc(1234));
    fs.writeFileSync(path.join(dir, 'snapshots', 'vol0', 'notes.txt'), 'not a snapshot');
    try {
      const info = await lsaJson<ArrayDescription>(['inspect', '--dir', dir]);
      expect(info.access).to.deep.equal({ mode: 'exclusive', heldByPid: null });
      expect(info.geometry).to.include({ disks: 4, dataDisks: 3, columnBytes: 65536, trackBytes: 4096, dataSegments: layout.dataSegments });
      expect(info.degraded).to.equal(false);
      expect(info.disks.map((d) => d.health)).to.deep.equal(['ok', 'ok', 'ok', 'ok']);
      const c = info.segmentCounts;
      expect(c.free + c.open + c.closed + c.collecting).to.equal(layout.dataSegments);
      expect(info.openSegments.length).to.equal(c.open);
      expect(info.collector).to.deep.equal({ segmentsCollected: info.stats.segmentsCollected, bytesMoved: info.stats.gcBytesMoved });
      expect(info.stats.writeAmplification).to.be.at.least(1);
      expect(info.pendingWrites).to.equal(0);
      expect(info.directoryLogPages).to.be.a('number').and.to.be.at.least(0);
      expect(info.volumes).to.have.length(1);
      expect(info.volumes[0]).to.include({ name: 'vol0', allocatedTracks: 10 });
      expect(info.utilizationHistogram).to.have.length(10);
      expect(info.snapshots).to.have.length(1);
      expect(info.snapshots[0]).to.include({ volume: 'vol0', name: 'before-upgrade', sizeBytes: 1234 });
      expect(info.snapshots[0].mtimeMs).to.be.a('number');
      const text = await runLsa(['inspect', '--dir', dir]);
      expect(text.out).to.contain('collector').and.to.contain('pending').and.to.contain('directory log').and.to.contain('vol0/before-upgrade');
    } finally {
      fs.rmSync(path.join(dir, 'snapshots'), { recursive: true, force: true });
    }
  });

  it('--volume --track: the file and offset hold the track, the header matches the entry', async () => {
    for (const track of [0, 3, 5, 9]) {
      const r = await lsaJson<TrackReport>(['inspect', '--dir', dir, '--volume', 'vol0', '--track', String(track)]);
      expect(r.state).to.equal('data');
      expect(r.volumeOffset).to.equal(track * TRACK_BYTES);
      const e = r.entry!;
      const loc = r.location!;
      expect(loc.column).to.equal(Math.floor(e.slot / layout.columnBytes));
      expect(loc.disk).to.equal(layout.dataDisk(e.segment, loc.column));
      expect(path.basename(loc.diskPath)).to.equal(`disk-${loc.disk}.img`);
      expect(loc.recordFileOffset).to.equal(e.segment * layout.columnBytes + e.slot - loc.column * layout.columnBytes);
      expect(loc.payloadFileOffset).to.equal(loc.recordFileOffset + 48);
      expect(readFileBytes(loc.diskPath, loc.recordFileOffset, 4).toString('latin1')).to.equal('LSAR');
      expect(readFileBytes(loc.diskPath, loc.payloadFileOffset, TRACK_BYTES).equals(Buffer.alloc(TRACK_BYTES, trackPattern(track)))).to.equal(true);
      expect(r.record).to.include({ track, trackCount: 1, seq: e.seq, payloadBytes: TRACK_BYTES, matchesEntry: true, crcOk: true });
      expect(r.record!.flags).to.deep.equal({ raw: 0, trim: false, zero: false, compression: 'none' });
      expect(r.hexdump).to.equal(`hexdump -C -s ${loc.payloadFileOffset} -n ${TRACK_BYTES} ${loc.diskPath}`);
      expect(r.problem).to.equal(null);
    }
  });

  it('--volume --offset: the byte itself, and its place in the file', async () => {
    const offset = 7 * TRACK_BYTES + 100;
    const r = await lsaJson<TrackReport>(['inspect', '--dir', dir, '--volume', 'vol0', '--offset', String(offset)]);
    expect(r).to.include({ track: 7, byteOffset: offset, byteInTrack: 100, state: 'data' });
    const loc = r.location!;
    expect(loc.byteFileOffset).to.equal(loc.payloadFileOffset + 100);
    expect(readFileBytes(loc.diskPath, loc.byteFileOffset!, 1)[0]).to.equal(trackPattern(7));
    expect(r.hexdump).to.equal(`hexdump -C -s ${loc.byteFileOffset} -n ${TRACK_BYTES - 100} ${loc.diskPath}`);
  });

  it('a trimmed track names its TRIM record; an unwritten one says so', async () => {
    const trimmed = await lsaJson<TrackReport>(['inspect', '--dir', dir, '--volume', 'vol0', '--track', '25']);
    expect(trimmed.state).to.equal('trimmed');
    expect(trimmed.record).to.include({ track: 20, trackCount: 10, payloadBytes: 0, matchesEntry: true, crcOk: null });
    expect(trimmed.record!.flags.trim).to.equal(true);
    expect(readFileBytes(trimmed.location!.diskPath, trimmed.location!.recordFileOffset, 4).toString('latin1')).to.equal('LSAR');
    const text = await runLsa(['inspect', '--dir', dir, '--volume', 'vol0', '--track', '25']);
    expect(text.out).to.contain('trimmed').and.to.contain('TRIM record').and.to.contain('tracks 20..29');

    const never = await lsaJson<TrackReport>(['inspect', '--dir', dir, '--volume', 'vol0', '--track', '100']);
    expect(never).to.include({ state: 'never-written', entry: null, location: null, record: null, hexdump: null });
  });

  it('--segment: columns, records (live, garbage), accounting that adds up', async () => {
    const track3 = await lsaJson<TrackReport>(['inspect', '--dir', dir, '--volume', 'vol0', '--track', '0']);
    const segment = track3.entry!.segment;
    const r = await lsaJson<SegmentReport>(['inspect', '--dir', dir, '--segment', String(segment)]);
    expect(r.segment).to.equal(segment);
    expect(r.parityDisk).to.equal(layout.parityDisk(segment));
    expect(r.columns).to.have.length(4);
    const parity = r.columns.filter((c) => c.holds === 'parity');
    expect(parity.map((c) => c.disk)).to.deep.equal([layout.parityDisk(segment)]);
    for (const c of r.columns.filter((x) => x.holds === 'data')) expect(layout.dataDisk(segment, c.column!)).to.equal(c.disk);
    for (const c of r.columns) expect(c.fileOffset).to.equal(segment * layout.columnBytes);

    // the first write put tracks 0..9 here, the rewrite of track 3 made its first record garbage
    const first = r.records.filter((x) => x.volume === 'vol0' && x.track < 10 && x.trackCount === 1);
    expect(first.map((x) => x.track)).to.include.members([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const old3 = first.filter((x) => x.track === 3).sort((a, b) => a.seq - b.seq)[0];
    expect(old3.status).to.equal('garbage');
    expect(first.find((x) => x.track === 5)!.status).to.equal('live');
    for (const x of r.records) {
      expect(x.crcOk === null || x.crcOk === true).to.equal(true);
      expect(x.column).to.equal(Math.floor(x.slot / layout.columnBytes));
      expect(x.fileOffset).to.equal(segment * layout.columnBytes + x.offsetInColumn);
    }
    expect(r.summary.records).to.equal(r.records.length);
    expect(r.summary.live + r.summary.pending + r.summary.pinned + r.summary.garbage).to.equal(r.records.length);
    expect(r.summary.scannedLiveBytes).to.equal(r.liveBytes);
    expect(r.fill).to.be.closeTo(r.fillBytes / layout.segmentDataBytes, 1e-9);
    const text = await runLsa(['inspect', '--dir', dir, '--segment', String(segment)]);
    expect(text.out).to.contain('PARITY').and.to.contain('garbage');
  });

  it('bad arguments name the problem and the fix', async () => {
    const cases: [string[], number, RegExp][] = [
      [['--segment', '0'], 64, /--segment must be a whole number from 1 to 63 \(segment 0 holds the superblocks\); got "0"/],
      [['--segment', '64'], 64, /from 1 to 63/],
      [['--segment', 'x'], 64, /got "x"/],
      [['--volume', 'nope', '--track', '1'], 66, /no volume "nope" .*its volumes are: vol0/],
      [['--volume', 'vol0', '--track', '256'], 64, /--track must be a whole number from 0 to 255 \(volume vol0 has 256 tracks of 4KiB\)/],
      [['--volume', 'vol0', '--offset', '1MiB'], 64, /--offset 1048576 is past the end of volume vol0 .*use 0 to 1048575/],
      [['--volume', 'vol0', '--offset', 'lots'], 64, /--offset: cannot read "lots" as a size/],
      [['--volume', 'vol0'], 64, /--track T or --offset BYTES/],
      [['--volume', 'vol0', '--track', '1', '--offset', '0'], 64, /not both/],
      [['--track', '1'], 64, /--track needs the volume: add --volume NAME/],
      [['--segment', '1', '--volume', 'vol0'], 64, /separate views/],
      [['--count', '2'], 64, /--count goes with --watch/],
    ];
    for (const [args, code, message] of cases) {
      const r = await runLsa(['inspect', '--dir', dir, ...args]);
      expect(r.code, args.join(' ')).to.equal(code);
      expect(r.err, args.join(' ')).to.match(message);
    }
  });
});
