// Rebuilding the LSA directory and the segment table from the records on the disks, for when
// nvram.sqlite is lost or damaged beyond SQLite's own recovery (`lsa recover --rebuild-directory`).
//
// What the disks alone say: the superblocks hold the geometry and the volume table; every record
// carries its volume, track (range), write sequence and CRCs. So:
//
//   1. scan every segment 1.. through the array; a column's records end at the first bytes that
//      are not a valid header (a torn or garbage header fails its CRC); a data record whose
//      payload fails its CRC is repaired from parity if it can be, else skipped and counted;
//   2. for every track, the record with the highest sequence wins; a TRIM/ZERO record that wins
//      makes the track read zeros and its entry points at that record (so a trim keeps older
//      data from coming back). Records of volumes not in the superblocks, or past a volume's
//      end, are ignored. Copies made by the collector keep their sequence and content, so a tie
//      between two copies may pick either;
//   3. recompute live bytes and trim references of every segment from the chosen entries;
//      segments with nothing live are free, the others closed (fill = end of their last
//      record); a closed segment whose parity does not match its columns (the segment that was
//      open at the crash) gets its parity recomputed and written;
//   4. the next write sequence is the highest one seen plus SEQ_GAP_ON_OPEN;
//   5. data and parity are synced, then the new NVRAM is written as a temporary file, synced and
//      renamed into place; the old file is moved aside (nvram.sqlite.damaged-<time>), never
//      deleted.
//
// Why newest-wins is sound: the live record of a track always stays on disk (a segment is freed
// only after its live records moved), and every other record of that track from a committed
// write is older or an identical copy. The exception, documented in docs/RECOVERY.md: a write
// that was never flushed before an earlier crash, whose record survived on disk and whose track
// was not written again since, comes back.
//
// Memory: the directories (32 bytes per track), one segment's data area, a few numbers per
// segment, and while the accounting is recounted (accounting.ts) a set of one volume's data
// records.

import { CorruptionError, InvalidArgumentError, NotFoundError } from '../errors';
import { DiskArray, diskPath } from '../array/disk-array';
import { xorInto } from '../array/parity';
import { rewriteParity } from '../array/rewrite-parity';
import type { DiskSystem } from '../io/disk-file';
import { realDisks } from '../io/real-disk';
import { systemClock, type Clock } from '../io/clock';
import { fileExists, joinPath } from '../io/files';
import { LockFile } from '../io/lock-file';
import { moveAside, removeIfExists, renameDurable, fsyncPath } from '../io/durable-files';
import { recordBytes as recordBytesOf, RECORD_HEADER_BYTES, TRIM_TRACKS_MAX, isTrimLike, tryDecodeHeader, type RecordHeader } from './record-format';
import { codecOfFlags, plausibleStored } from './track-codec';
import { LsaEngine, SEQ_GAP_ON_OPEN, type VolumeState } from './engine';
import type { NvramStore, PageWrite, VolumeRow } from './nvram';
import { NVRAM_FILE, SqliteNvram } from './sqlite-nvram';
import type { SegmentRow } from './segment-table';
import { scanRecords } from './relocate';
import { expectedAccounting } from './accounting';
import { FORMAT_VERSION } from './open-array';
import { DirectoryJournal, type JournalVolume } from './directory-journal';
import { VolumeDirectory } from './directory';
import { DEFAULT_GC_POLICY } from './gc-policy';
import type { VolumeLabel } from './volumes';
import { crc32 } from 'node:zlib';

/** Damaged records remembered to tell which tracks lost their newest version. */
export const DAMAGED_RECORDS_MAX = 100_000;
/** Tracks listed by name in the report (all are counted). */
export const DAMAGED_TRACKS_LISTED_MAX = 20;

export interface RebuildOptions {
  disks?: DiskSystem;
  clock?: Clock;
  /** Where the new directory goes: nvram.sqlite (default), or a store (simulations). */
  nvram?: 'sqlite' | NvramStore;
  lock?: boolean;
  /** Rebuild even when nvram.sqlite opens and belongs to this array. */
  force?: boolean;
  onProgress?: (done: number, total: number, what: string) => void;
}

export interface RebuildVolumeReport {
  id: number;
  name: string;
  capacityBytes: number;
  tracks: number;
  dataTracks: number;
  trimmedTracks: number;
}

export interface RebuildReport {
  segmentsScanned: number;
  segmentsWithRecords: number;
  records: number;
  dataRecords: number;
  trimRecords: number;
  /** Records whose payload failed its CRC and could not be repaired from parity: skipped. */
  damagedRecords: number;
  /** Records whose payload failed its CRC and was rebuilt from parity (and written back). */
  repairedRecords: number;
  /** Records of volumes not in the superblocks, past a volume's end, or of a kind this build
   * cannot read. */
  ignoredRecords: number;
  /** Tracks whose newest record was damaged: they read their previous content. */
  tracksWithDamagedNewest: number;
  damagedTracks: { volume: string; track: number }[];
  volumes: RebuildVolumeReport[];
  segmentsClosed: number;
  segmentsFree: number;
  parityRewritten: number;
  seqMax: number;
  nextSeq: number;
  nvram: string;
  movedAside: string[];
  elapsedMs: number;
}

export interface RebuildResult {
  report: RebuildReport;
  /** The store holding the new directory (closed for sqlite; open it with openArray). */
  nvram: NvramStore;
}

interface SegmentFacts {
  end: number;
  seqLast: number;
  parityOk: boolean;
}

/** The volume table from the superblocks' label; anything malformed is corruption. */
export function labelVolumes(label: unknown, where: string): VolumeLabel['volumes'] {
  const l = label as Partial<VolumeLabel> | null;
  if (!l || typeof l !== 'object' || !Array.isArray(l.volumes)) throw new CorruptionError(`${where}: the superblocks hold no volume table`);
  for (const v of l.volumes) {
    const ok = v && Number.isInteger(v.id) && v.id > 0 && typeof v.name === 'string' && Number.isSafeInteger(v.capacityBytes) && v.capacityBytes > 0;
    if (!ok) throw new CorruptionError(`${where}: the superblocks' volume table has a malformed entry: ${JSON.stringify(v)}`);
  }
  return l.volumes;
}

export async function rebuildDirectory(dir: string, opts: RebuildOptions = {}): Promise<RebuildResult> {
  const disks = opts.disks ?? realDisks;
  const clock = opts.clock ?? systemClock;
  const startMs = clock.nowMs();
  const target = opts.nvram ?? 'sqlite';
  if (!disks.exists(diskPath(dir, 0)) && !disks.exists(diskPath(dir, 1))) {
    throw new NotFoundError(`no array in ${dir}: no disk files (disk-0.img, disk-1.img, ...) to rebuild the directory from`, { dir });
  }
  const useLock = opts.lock ?? disks === realDisks;
  const lock = useLock ? LockFile.acquire(dir) : null;
  let array: DiskArray | null = null;
  let store: NvramStore | null = null;
  const nvramFile = joinPath(dir, NVRAM_FILE);
  const tmpFile = `${nvramFile}.rebuild-tmp`;
  try {
    array = await DiskArray.open(dir, disks);
    if (array.degraded) {
      throw new InvalidArgumentError(`disk(s) ${array.unreadableDisks.join(', ')} of ${dir} cannot be read; the directory rebuild reads every column and writes parity, so it needs all disks`, { dir });
    }
    if (target === 'sqlite' && !opts.force && fileExists(nvramFile)) refuseHealthy(nvramFile, dir, array.arrayId);
    if (target === 'sqlite') {
      for (const extra of ['', '-wal', '-shm', '-journal']) removeIfExists(tmpFile + extra); // ours, from an interrupted rebuild
      store = new SqliteNvram(tmpFile, true, dir);
    } else {
      store = target;
    }
    const engine = new LsaEngine({ dir, array, nvram: store, clock, lock: null });
    const report = emptyReport(target === 'sqlite' ? nvramFile : store.location);
    const rows: VolumeRow[] = labelVolumes(array.label, dir).map((v) => ({ id: v.id, name: v.name, capacityBytes: v.capacityBytes, createdAtMs: clock.nowMs(), compress: v.compress ?? 'none' }));
    for (const row of rows) engine.addVolumeState(row);
    const facts = await scanAll(engine, report, opts.onProgress);
    const segmentRows = await settleSegments(engine, facts, report, clock);
    report.nextSeq = report.seqMax + SEQ_GAP_ON_OPEN;
    const pages: PageWrite[] = [];
    for (const v of engine.volumesById.values()) {
      for (const p of v.directory.takeDirtyPages()) pages.push({ volumeId: v.row.id, pageNo: p.pageNo, bytes: p.bytes });
    }
    await array.sync(); // data and parity first: the commit order
    store.commit({
      pages,
      // whole pages of everything, at directory commit 0: no log row of the old store may
      // replay over them
      directoryLogBefore: Number.MAX_SAFE_INTEGER,
      segments: segmentRows,
      volumesAdded: rows,
      meta: {
        formatVersion: String(FORMAT_VERSION), arrayId: array.arrayId, geometry: JSON.stringify(array.geometry),
        nextSeq: String(report.nextSeq), gcPolicy: DEFAULT_GC_POLICY, stats: JSON.stringify(engine.stats),
        directoryRebuiltAtMs: String(clock.nowMs()),
      },
    });
    if (target === 'sqlite') {
      store.close();
      if (fileExists(`${tmpFile}-wal`)) throw new CorruptionError(`${tmpFile}-wal is still there after closing the rebuilt NVRAM; nothing was replaced`);
      fsyncPath(tmpFile);
      const stamp = new Date(clock.nowMs()).toISOString().replace(/[:.]/g, '-');
      report.movedAside = moveAside(nvramFile, `.damaged-${stamp}`, ['-wal', '-shm', '-journal']);
      renameDurable(tmpFile, nvramFile);
    }
    report.elapsedMs = clock.nowMs() - startMs;
    return { report, nvram: store };
  } catch (err) {
    if (target === 'sqlite') {
      try {
        store?.close();
      } catch {
        // keep the first error
      }
      removeIfExists(tmpFile);
    }
    throw err;
  } finally {
    await array?.close().catch(() => undefined);
    lock?.release();
  }
}

/** A NVRAM file that opens, passes quick_check and names this array needs --force. */
function refuseHealthy(nvramFile: string, dir: string, arrayId: string): void {
  let healthy = false;
  try {
    const probe = new SqliteNvram(nvramFile, false, dir);
    try {
      healthy = probe.meta().get('arrayId') === arrayId && directoryLoads(probe, dir);
    } finally {
      probe.close();
    }
  } catch {
    healthy = false;
  }
  if (healthy) {
    throw new InvalidArgumentError(
      `${nvramFile} opens and belongs to this array; a rebuild from the disks would drop what only it knows (the collector policy, statistics, which unflushed writes were lost). If its directory is wrong (lsa check fails), rebuild anyway with --force; the old file is kept as ${NVRAM_FILE}.damaged-<time>`,
      { dir },
    );
  }
}

/** True if the directory pages and log of `probe` load (a damaged log row makes the open
 * fail, and is what this command is for). */
function directoryLoads(probe: SqliteNvram, dir: string): boolean {
  const trackBytes = (JSON.parse(probe.meta().get('geometry') ?? '{}') as { trackBytes?: number }).trackBytes ?? 0;
  if (!(trackBytes > 0)) return false;
  const volumes = new Map<number, JournalVolume>();
  for (const row of probe.volumes()) {
    const tracks = Math.ceil(row.capacityBytes / trackBytes);
    volumes.set(row.id, { row, tracks, directory: new VolumeDirectory(tracks) });
  }
  try {
    new DirectoryJournal().load(probe, volumes, probe.location, dir);
    return true;
  } catch {
    return false;
  }
}

function emptyReport(nvram: string): RebuildReport {
  return {
    segmentsScanned: 0, segmentsWithRecords: 0, records: 0, dataRecords: 0, trimRecords: 0, damagedRecords: 0, repairedRecords: 0,
    ignoredRecords: 0, tracksWithDamagedNewest: 0, damagedTracks: [], volumes: [], segmentsClosed: 0, segmentsFree: 0,
    parityRewritten: 0, seqMax: 0, nextSeq: 0, nvram, movedAside: [], elapsedMs: 0,
  };
}

/** Whether this build can serve a record of this shape (whole tracks, uncompressed or in a
 * codec it knows, of a length it would have stored). */
function usable(h: RecordHeader, v: VolumeState, trackBytes: number): boolean {
  if (h.track >= v.tracks) return false;
  if (isTrimLike(h.flags)) return h.payloadBytes === 0 && h.trackCount >= 1 && h.trackCount <= TRIM_TRACKS_MAX;
  return h.trackCount === 1 && plausibleStored(codecOfFlags(h.flags), h.payloadBytes, trackBytes);
}

/** A segment's data columns and parity column, read at once. */
interface SegmentBytes {
  data: Buffer;
  parity: Buffer;
}

async function readSegment(engine: LsaEngine, segment: number, into: SegmentBytes): Promise<SegmentBytes> {
  const cb = engine.layout.columnBytes;
  into.parity.fill(0);
  const reads: Promise<unknown>[] = [engine.array.readParity(segment, 0, into.parity)];
  for (let c = 0; c < engine.layout.dataColumns; c++) reads.push(engine.array.readColumn(segment, c, 0, into.data.subarray(c * cb, (c + 1) * cb)));
  await Promise.all(reads);
  return into;
}

async function scanAll(engine: LsaEngine, report: RebuildReport, onProgress?: RebuildOptions['onProgress']): Promise<SegmentFacts[]> {
  const layout = engine.layout;
  const cb = layout.columnBytes;
  // two buffers: the next segment is read while this one is parsed (the scan is CPU-bound on
  // CRCs and parity, the reads would otherwise leave the CPU idle)
  const buffers: SegmentBytes[] = [0, 1].map(() => ({ data: Buffer.alloc(layout.segmentDataBytes), parity: Buffer.alloc(cb) }));
  const zeros = Buffer.alloc(cb);
  const facts: SegmentFacts[] = [];
  const damaged: { volumeId: number; track: number; seq: number }[] = [];
  let next: Promise<SegmentBytes> | null = layout.segments > 1 ? readSegment(engine, 1, buffers[1]) : null;
  for (let s = 1; s < layout.segments; s++) {
    onProgress?.(s - 1, layout.segments - 1, 'scanning segments');
    const { data, parity } = await next!;
    next = s + 1 < layout.segments ? readSegment(engine, s + 1, buffers[(s + 1) % 2]) : null;
    report.segmentsScanned++;
    const fact: SegmentFacts = { end: 0, seqLast: 0, parityOk: true };
    facts[s] = fact;
    const found = scanRecords(engine, data);
    if (found.length === 0) continue;
    report.segmentsWithRecords++;
    // parity is judged now, while the data is in memory; only closed segments will need it
    for (let c = 0; c < layout.dataColumns; c++) xorInto(parity, data.subarray(c * cb, (c + 1) * cb));
    fact.parityOk = parity.equals(zeros);
    for (const { slot, header } of found) {
      let h = header;
      report.records++;
      report.seqMax = Math.max(report.seqMax, h.seq);
      fact.seqLast = Math.max(fact.seqLast, h.seq);
      fact.end = Math.max(fact.end, slot + recordBytesOf(h.payloadBytes));
      const v = engine.volumesById.get(h.volumeId);
      if (!v || !usable(h, v, layout.trackBytes)) {
        report.ignoredRecords++;
        continue;
      }
      if (!isTrimLike(h.flags)) {
        const payload = data.subarray(slot + RECORD_HEADER_BYTES, slot + RECORD_HEADER_BYTES + h.payloadBytes);
        if (crc32(payload) !== h.payloadCrc) {
          const repaired = fact.parityOk ? await repairFromParity(engine, s, slot, h) : null;
          if (!repaired) {
            report.damagedRecords++;
            if (damaged.length < DAMAGED_RECORDS_MAX) damaged.push({ volumeId: h.volumeId, track: h.track, seq: h.seq });
            continue;
          }
          h = repaired;
          report.repairedRecords++;
        }
        report.dataRecords++;
      } else {
        report.trimRecords++;
      }
      choose(v, slot, s, h);
    }
  }
  onProgress?.(layout.segments - 1, layout.segments - 1, 'scanning segments');
  for (const d of damaged) {
    const v = engine.volumesById.get(d.volumeId)!;
    if (d.seq <= v.directory.seqOf(d.track)) continue;
    report.tracksWithDamagedNewest++;
    if (report.damagedTracks.length < DAMAGED_TRACKS_LISTED_MAX) report.damagedTracks.push({ volume: v.row.name, track: d.track });
  }
  return facts;
}

/** Newest wins, track by track. */
function choose(v: VolumeState, slot: number, segment: number, h: RecordHeader): void {
  const dir = v.directory;
  const trim = isTrimLike(h.flags);
  const end = Math.min(v.tracks, h.track + (trim ? h.trackCount : 1));
  const entry = { segment, slot, recordBytes: recordBytesOf(h.payloadBytes), payloadCrc: trim ? 0 : h.payloadCrc, flags: h.flags, payloadBytes: h.payloadBytes, seq: h.seq };
  for (let t = h.track; t < end; t++) if (h.seq > dir.seqOf(t)) dir.set(t, entry);
}

/** Rebuilds a record's bytes from the other columns and parity; writes them back if that
 * gives a record with the same header and a good payload CRC. */
async function repairFromParity(engine: LsaEngine, segment: number, slot: number, h: RecordHeader): Promise<RecordHeader | null> {
  const cb = engine.layout.columnBytes;
  const column = Math.floor(slot / cb);
  const buf = Buffer.alloc(recordBytesOf(h.payloadBytes));
  try {
    await engine.array.reconstructColumn(segment, column, slot - column * cb, buf);
  } catch {
    return null;
  }
  const r = tryDecodeHeader(buf, 0);
  if (!r || r.seq !== h.seq || r.track !== h.track || r.volumeId !== h.volumeId || r.payloadBytes !== h.payloadBytes) return null;
  if (crc32(buf.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + r.payloadBytes)) !== r.payloadCrc) return null;
  await engine.array.writeColumn(segment, column, slot - column * cb, buf);
  return r;
}

/** Accounting from the chosen entries (accounting.ts); free or closed; parity for closed
 * segments that lack it. */
async function settleSegments(engine: LsaEngine, facts: SegmentFacts[], report: RebuildReport, clock: Clock): Promise<SegmentRow[]> {
  const layout = engine.layout;
  const { liveBytes: live, trimRefs: refs } = expectedAccounting(engine);
  for (const v of engine.volumesById.values()) {
    const dataTracks = v.directory.countAllocated((f) => !isTrimLike(f));
    const trimmedTracks = v.directory.countAllocated(isTrimLike);
    report.volumes.push({ id: v.row.id, name: v.row.name, capacityBytes: v.row.capacityBytes, tracks: v.tracks, dataTracks, trimmedTracks });
  }
  const rows: SegmentRow[] = [];
  const nowMs = clock.nowMs();
  for (let s = 1; s < layout.segments; s++) {
    const inUse = live[s] > 0 || refs[s] > 0;
    const f = facts[s];
    const row: SegmentRow = inUse
      ? { index: s, state: 'closed', liveBytes: live[s], trimRefs: refs[s], fillBytes: f.end, seqLast: f.seqLast, closedAtMs: nowMs, stream: 0 }
      : { index: s, state: 'free', liveBytes: 0, trimRefs: 0, fillBytes: 0, seqLast: 0, closedAtMs: 0, stream: 0 };
    engine.segments.load(row);
    rows.push(row);
    if (!inUse) {
      report.segmentsFree++;
      continue;
    }
    report.segmentsClosed++;
    if (!f.parityOk) {
      await rewriteParity(engine.array, s);
      report.parityRewritten++;
    }
  }
  return rows;
}

