// The LSA engine: tracks in, records out. A write never overwrites a track in place: it appends
// a record to the open segment in memory and points the directory at it; the old record turns
// into garbage. A single destager writes sealed segments (data and parity) and, for a flush,
// the filled part of the open segment, then syncs the disks, and only then commits the
// directory and segment table to NVRAM (the commit-order invariant). Flushes that arrive while
// one is running share the next commit (group commit).
//
// Concurrency: JavaScript runs one task at a time, so every mutation of the directory and the
// segment table happens in one synchronous block; only disk I/O awaits.

import { ClosedError, InvalidArgumentError, assert } from '../errors';
import type { Logger } from '../util/log';
import type { DiskArray } from '../array/disk-array';
import type { Layout } from '../array/geometry';
import type { Clock } from '../io/clock';
import type { LockFile } from '../io/lock-file';
import { VolumeDirectory, type Entry } from './directory';
import { SegmentBufferPool } from './segment-buffers';
import { SegmentWriter } from './segment-writer';
import { checkCompressMode, codecOf, compressTrack, flagsOfCodec } from './track-codec';
import { readTrack as readTrackFromRecords, rebuildRecord as rebuildRecordFromParity } from './track-reader';
import { readTracks as readTracksFromRecords } from './tracks-reader';
import type { NvramStore, VolumeRow } from './nvram';
import { DirectoryJournal } from './directory-journal';
import {
  COMPRESSION_NONE, RECORD_FLAG_TRIM, RECORD_FLAG_ZERO, TRIM_TRACKS_MAX, isTrimLike, recordBytes, type RecordHeader,
} from './record-format';
import { SegmentTable } from './segment-table';
import { EngineStatus } from './engine-status';
import { Destager, SEALED_QUEUE_MAX } from './destager';
import { SegmentLog, type AppendedRecord } from './segment-log';
import { RESERVED_SEGMENTS, Space } from './space';
import { PendingDirectory } from './pending-directory';
import type { VolumeState } from './volume-state';
import { STREAMS, STREAM_HOST, type Placement } from './placement';
import { defaultHooks, type EngineHooks, type RecordPins, type RoomMaker, type UpdateListener } from './engine-hooks';

/** After a restart, sequence numbers jump by this much, so that no record written but not
 * committed before a crash can ever look newer than a record written after it. */
export const SEQ_GAP_ON_OPEN = 2 ** 24;

export type { VolumeState } from './volume-state';

export interface EngineStats {
  hostBytesWritten: number;
  hostBytesTrimmed: number;
  gcBytesMoved: number;
  segmentsCollected: number;
  commits: number;
  recordsRepaired: number;
}

export interface EngineParts {
  dir: string;
  array: DiskArray;
  nvram: NvramStore;
  clock: Clock;
  lock: LockFile | null;
}

export class LsaEngine {
  readonly layout: Layout;
  readonly segments: SegmentTable;
  readonly volumesByName = new Map<string, VolumeState>();
  readonly volumesById = new Map<number, VolumeState>();
  /** How the directories reach NVRAM: pages and a log of changed entries. */
  readonly journal = new DirectoryJournal();
  readonly stats: EngineStats = { hostBytesWritten: 0, hostBytesTrimmed: 0, gcBytesMoved: 0, segmentsCollected: 0, commits: 0, recordsRepaired: 0 };
  nextSeq = 1;

  readonly pending = new PendingDirectory();
  /** More NVRAM meta keys committed with every commit (the remote copy's watermarks). */
  readonly extraMeta: Record<string, string> = {};
  /** What upper layers plug in (engine-hooks.ts); the parts read them from here. */
  private readonly hooks: EngineHooks = defaultHooks();
  /** Open, stopped by an I/O error, or closed: every entry point checks it. */
  private readonly status = new EngineStatus();

  readonly dir: string;
  readonly array: DiskArray;
  readonly nvram: NvramStore;
  readonly clock: Clock;
  private lock: LockFile | null;
  private readonly writer: SegmentWriter;
  /** Writes sealed segments and runs group commits (destager.ts). */
  private readonly destager: Destager;
  /** Record append and segment open/seal; the segments held in memory (segment-log.ts). */
  readonly segmentLog: SegmentLog;
  /** Room for host and collector records, and the collector's reserve (space.ts). */
  private readonly space: Space;

  get placement(): Placement {
    return this.hooks.placement;
  }
  set placement(p: Placement) {
    this.hooks.placement = p;
  }
  get updateListener(): UpdateListener | null {
    return this.hooks.updateListener;
  }
  set updateListener(l: UpdateListener | null) {
    this.hooks.updateListener = l;
  }
  get pins(): RecordPins | null {
    return this.hooks.pins;
  }
  set pins(p: RecordPins | null) {
    this.hooks.pins = p;
  }
  get log(): Logger {
    return this.hooks.log;
  }
  set log(l: Logger) {
    this.hooks.log = l;
  }
  get roomMaker(): RoomMaker | null {
    return this.hooks.roomMaker;
  }
  set roomMaker(r: RoomMaker | null) {
    this.hooks.roomMaker = r;
  }

  constructor(parts: EngineParts) {
    this.dir = parts.dir;
    this.array = parts.array;
    this.nvram = parts.nvram;
    this.clock = parts.clock;
    this.lock = parts.lock;
    this.layout = parts.array.layout;
    this.segments = new SegmentTable(this.layout.segments);
    this.writer = new SegmentWriter(this.array, (err) => this.destager.stop(err));
    this.destager = new Destager({
      layout: this.layout, array: this.array, nvram: this.nvram, writer: this.writer, segments: this.segments,
      journal: this.journal, volumesById: this.volumesById, pending: this.pending, stats: this.stats, status: this.status,
      memory: {
        openSegments: () => this.segmentLog.openSegments(),
        retire: (mem) => this.segmentLog.retire(mem),
      },
      commit: {
        meta: () => this.metaSnapshot(),
        nextSeq: () => this.nextSeq,
        committed: (committedBefore) => this.hooks.updateListener?.onCommit(committedBefore),
      },
    });
    this.segmentLog = new SegmentLog({
      layout: this.layout, array: this.array, nvram: this.nvram, clock: this.clock, segments: this.segments, writer: this.writer,
      destager: this.destager, hooks: this.hooks, stats: this.stats, buffers: new SegmentBufferPool(this.layout, STREAMS + SEALED_QUEUE_MAX),
    });
    this.space = new Space(this.layout, this.segments, this.segmentLog.open, this.hooks, this.status);
  }

  // ---- state loading (used by open and create) ----

  addVolumeState(row: VolumeRow): VolumeState {
    const tracks = Math.ceil(row.capacityBytes / this.layout.trackBytes);
    const state: VolumeState = { row, tracks, directory: new VolumeDirectory(tracks) };
    this.volumesByName.set(row.name, state);
    this.volumesById.set(row.id, state);
    return state;
  }

  /** Brings the open segment's committed bytes back into memory after a restart. */
  resumeOpenSegment(segment: number, fillBytes: number): Promise<void> {
    return this.segmentLog.resumeOpenSegment(segment, fillBytes);
  }

  /** Something changed that the next commit must carry. */
  markChanged(): void {
    this.destager.changedSinceCommit = true;
  }

  /** Segments NVRAM holds partial parity for (from the last commit before a restart). */
  noteNvramParity(segments: number[]): void {
    this.destager.noteNvramParity(segments);
  }

  // ---- writes ----

  volume(id: number): VolumeState {
    const v = this.volumesById.get(id);
    if (!v) throw new InvalidArgumentError(`no volume with id ${id}`);
    return v;
  }

  /** Drops whatever a track's directory entry pointed at from its segment's accounting. */
  unlink(e: Entry, volumeId: number, track: number): void {
    if (e.segment === 0) return;
    if (this.hooks.pins?.isPinned(volumeId, track, e.segment, e.slot)) return; // a snapshot still holds it
    if (isTrimLike(e.flags)) this.segments.addTrimRefs(e.segment, -1);
    else this.segments.addLive(e.segment, -e.recordBytes);
  }

  /** Writes whole tracks; `data.length` is a multiple of the track size. Runs of zero-filled
   * tracks are stored as one ZERO record and take no data space. */
  async writeTracks(volumeId: number, firstTrack: number, data: Buffer): Promise<void> {
    const tb = this.layout.trackBytes;
    const v = this.volume(volumeId);
    const count = data.length / tb;
    assert(Number.isInteger(count) && firstTrack >= 0 && firstTrack + count <= v.tracks, 'writeTracks range inside the volume');
    const codec = codecOf(v.row.compress);
    if (codec !== COMPRESSION_NONE) checkCompressMode(v.row.compress); // before anything is appended
    await this.destager.waitForRoom();
    const zero = zeroTrack(tb);
    const isZero: boolean[] = [];
    let records = 0;
    for (let i = 0; i < count; i++) {
      const at = i * tb;
      // a non-zero first or last byte settles it without a compare (most tracks hold data)
      isZero.push(data[at] === 0 && data[at + tb - 1] === 0 && data.subarray(at, at + tb).equals(zero));
      if (!isZero[i] || i === 0 || !isZero[i - 1]) records++;
    }
    // re-checked after each await: other writers run meanwhile and may take the room
    do await this.space.ensureSpace(records, recordBytes(tb));
    while (records > this.space.hostRecordsAvailable(recordBytes(tb), RESERVED_SEGMENTS));
    const dir = v.directory;
    const waits: Promise<void>[] = [];
    const listener = this.hooks.updateListener;
    const now = listener ? this.clock.nowMs() : 0;
    for (let i = 0; i < count;) {
      const track = firstTrack + i;
      if (isZero[i]) {
        let run = 1;
        while (i + run < count && isZero[i + run] && run < TRIM_TRACKS_MAX) run++;
        const seq = this.appendTrim(v, track, run, RECORD_FLAG_ZERO);
        const w = listener?.onUpdate({ volumeId, track, count: run, kind: 'zero', data: null, seq, timestampMs: now });
        if (w) waits.push(w);
        i += run;
        continue;
      }
      const runStart = i;
      const seqFirst = this.nextSeq;
      for (; i < count && !isZero[i]; i++) {
        const t = firstTrack + i;
        const seq = this.nextSeq++;
        const payload = data.subarray(i * tb, (i + 1) * tb);
        const old = dir.get(t);
        const stored = codec === COMPRESSION_NONE ? null : compressTrack(codec, payload);
        const flags = stored ? flagsOfCodec(codec) : 0;
        const stream = this.space.hostStreamWithRoom(this.hooks.placement.hostStream(volumeId, t, old.segment === 0 ? -1 : old.seq, seq), recordBytes(stored ? stored.length : tb));
        const r = this.segmentLog.appendRecord(stream, flags, volumeId, t, 1, stored ?? payload, seq);
        this.unlink(old, volumeId, t);
        dir.set(t, { segment: r.segment, slot: r.slot, recordBytes: r.bytes, payloadCrc: r.crc, flags, payloadBytes: stored ? stored.length : tb, seq });
        this.segments.addLive(r.segment, r.bytes);
      }
      const w = listener?.onUpdate({
        volumeId, track: firstTrack + runStart, count: i - runStart, kind: 'write', data: data.subarray(runStart * tb, i * tb), seq: seqFirst, timestampMs: now,
      });
      if (w) waits.push(w);
    }
    this.stats.hostBytesWritten += data.length;
    if (waits.length > 0) await Promise.all(waits);
  }

  /** Trims (TRIM) or zeroes (ZERO, allocated zeros) whole tracks. */
  async trimTracks(volumeId: number, firstTrack: number, count: number, zero: boolean): Promise<void> {
    const v = this.volume(volumeId);
    assert(Number.isInteger(count) && count >= 0 && firstTrack >= 0 && firstTrack + count <= v.tracks, 'trimTracks range inside the volume');
    if (count === 0) return;
    await this.destager.waitForRoom();
    // a trim frees space, so it may dip into the collector's reserve (all but one segment)
    const trimRecords = Math.ceil(count / TRIM_TRACKS_MAX);
    do await this.space.ensureSpace(trimRecords, recordBytes(0), 1);
    while (trimRecords > this.space.hostRecordsAvailable(recordBytes(0), 1));
    const waits: Promise<void>[] = [];
    const listener = this.hooks.updateListener;
    const now = listener ? this.clock.nowMs() : 0;
    for (let done = 0; done < count;) {
      const run = Math.min(TRIM_TRACKS_MAX, count - done);
      const seq = this.appendTrim(v, firstTrack + done, run, zero ? RECORD_FLAG_ZERO : RECORD_FLAG_TRIM);
      const w = listener?.onUpdate({ volumeId, track: firstTrack + done, count: run, kind: zero ? 'zero' : 'trim', data: null, seq, timestampMs: now });
      if (w) waits.push(w);
      done += run;
    }
    this.stats.hostBytesTrimmed += count * this.layout.trackBytes;
    if (waits.length > 0) await Promise.all(waits);
  }

  private appendTrim(v: VolumeState, firstTrack: number, count: number, flags: number): number {
    const seq = this.nextSeq++;
    const r = this.segmentLog.appendRecord(this.space.hostStreamWithRoom(STREAM_HOST, recordBytes(0)), flags, v.row.id, firstTrack, count, null, seq);
    this.pointAtTrim(v, firstTrack, count, flags, seq, r.segment, r.slot, r.bytes);
    return seq;
  }

  /** Points tracks at a trim record (those whose entry is older than `seq`); returns how many. */
  pointAtTrim(v: VolumeState, firstTrack: number, count: number, flags: number, seq: number, segment: number, slot: number, bytes: number, onlyIfNewer = false): number {
    const dir = v.directory;
    let n = 0;
    for (let t = firstTrack; t < firstTrack + count; t++) {
      if (onlyIfNewer && dir.segmentOf(t) !== 0 && dir.seqOf(t) >= seq) continue;
      this.unlink(dir.get(t), v.row.id, t);
      dir.set(t, { segment, slot, recordBytes: bytes, payloadCrc: 0, flags, payloadBytes: 0, seq });
      n++;
    }
    this.segments.addTrimRefs(segment, n);
    return n;
  }

  // ---- the collector's side (the moves themselves are in relocate.ts) ----

  /** Records the collector can surely place (space.ts). */
  gcRecordsAvailable(bytes: number): number {
    return this.space.gcRecordsAvailable(bytes);
  }

  /** Appends a record the collector (or repair) moves, to the stream space.ts picks for it. */
  appendMoved(h: RecordHeader, payload: Buffer | null): AppendedRecord {
    const stream = this.space.gcStreamWithRoom(h.seq, this.nextSeq, recordBytes(payload ? payload.length : 0));
    return this.segmentLog.appendRecord(stream, h.flags, h.volumeId, h.track, h.trackCount, payload, h.seq, h.payloadCrc);
  }

  /** Records of `bytes` that fit anywhere (space.ts). */
  roomRecords(bytes: number): number {
    return this.space.roomRecords(bytes);
  }

  /** A collected segment returns to the free pool (after the commit that moved its data). */
  releaseSegment(segment: number): void {
    this.segmentLog.releaseSegment(segment);
  }

  // ---- reads (the read path itself is in track-reader.ts) ----

  /** Reads one whole track into `out` at `at`: zeros for tracks never written or trimmed; a
   * damaged record is rebuilt from parity, or the read fails naming the byte range. `from`
   * reads through another directory (a snapshot's). */
  async readTrack(volumeId: number, track: number, out: Buffer, at: number, from?: VolumeDirectory): Promise<void> {
    this.status.check();
    return readTrackFromRecords(this, volumeId, track, out, at, from);
  }

  /** Reads `count` whole tracks from `first` into `out` at `at`, as readTrack would each, with
   * one disk read per stretch of records that lie one after the other (tracks-reader.ts). */
  async readTracks(volumeId: number, first: number, count: number, out: Buffer, at: number, from?: VolumeDirectory): Promise<void> {
    this.status.check();
    return readTracksFromRecords(this, volumeId, first, count, out, at, from);
  }

  /** The record's bytes rebuilt from the other columns and parity, or null if impossible. */
  rebuildRecord(e: Entry): Promise<Buffer | null> {
    return rebuildRecordFromParity(this, e);
  }

  /** The bytes of the record an entry points at, from memory or from its data column. */
  async readRecordBytes(e: Entry): Promise<Buffer> {
    const mem = this.segmentLog.inMemory.get(e.segment);
    if (mem) return Buffer.from(mem.buffer.subarray(e.slot, e.slot + e.recordBytes));
    const cb = this.layout.columnBytes;
    const column = Math.floor(e.slot / cb);
    const buf = Buffer.allocUnsafe(e.recordBytes);
    await this.array.readColumn(e.segment, column, e.slot - column * cb, buf);
    return buf;
  }

  /** Segment bytes as the engine sees them (memory first), for the checker and inspection. */
  async readSegmentData(segment: number, from: number, to: number): Promise<Buffer> {
    const mem = this.segmentLog.inMemory.get(segment);
    if (mem) return mem.copyData(from, to);
    const out = Buffer.alloc(to - from);
    const cb = this.layout.columnBytes;
    for (let pos = from; pos < to;) {
      const column = Math.floor(pos / cb);
      const end = Math.min(to, (column + 1) * cb);
      await this.array.readColumn(segment, column, pos - column * cb, out.subarray(pos - from, end - from));
      pos = end;
    }
    return out;
  }

  isInMemory(segment: number): boolean {
    return this.segmentLog.isInMemory(segment);
  }

  get openSegmentIndex(): number {
    return this.segmentLog.openSegmentIndex;
  }

  openSegmentIndexes(): number[] {
    return this.segmentLog.openSegmentIndexes();
  }

  // ---- flush (the destager is in destager.ts) ----

  /** Makes every write that completed before this call durable. */
  flush(): Promise<void> {
    return this.destager.flush();
  }

  /** NVRAM meta keys committed with every commit. */
  metaSnapshot(): Record<string, string> {
    return {
      ...this.extraMeta,
      nextSeq: String(this.nextSeq),
      stats: JSON.stringify(this.stats),
    };
  }

  // ---- lifecycle ----

  get failed(): unknown {
    return this.status.failure;
  }

  /** Flushes, then closes disks and NVRAM. */
  async close(): Promise<void> {
    if (this.status.closed) return;
    // a background batch under way commits and frees its victims before the last flush
    await this.roomMaker?.stop();
    if (!this.status.failure) await this.flush();
    this.status.closed = true;
    await this.writer.quiesce();
    this.nvram.close();
    await this.array.close();
    this.lock?.release();
  }

  /** Stops without flushing, as a crash would (for simulations): memory is thrown away. */
  async abandon(): Promise<void> {
    this.status.closed = true;
    this.status.fail(new ClosedError('abandoned'));
    try {
      this.nvram.close();
    } catch {
      // already closed
    }
    try {
      await this.array.close();
    } catch {
      // stale handles after a simulated crash
    }
    this.lock?.release();
  }
}

const zeroTracks = new Map<number, Buffer>();
export function zeroTrack(bytes: number): Buffer {
  let z = zeroTracks.get(bytes);
  if (!z) {
    z = Buffer.alloc(bytes);
    zeroTracks.set(bytes, z);
  }
  return z;
}
