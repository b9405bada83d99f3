// The LSA engine: tracks in, records out. A write never overwrites a track in place: it appends
// a record to the open segment in memory and points the directory at it; the old record turns
// into garbage. A single destager writes sealed segments (data and parity) and, for a flush,
// the filled part of the open segment, then syncs the disks, and only then commits the
// directory and segment table to NVRAM (the commit-order invariant). Flushes that arrive while
// one is running share the next commit (group commit).
//
// This file puts the engine together; each concern is its own part:
//   space.ts          room for host and collector records, the collector's reserve
//   placement.ts      streams (hot and cold host writes, collector output) and their policy
//   segment-log.ts    record append, segment open/seal, the segments held in memory
//   host-writes.ts    host writes, trims and zeroing (zero runs, compression), update events,
//                     the write sequence
//   read-path.ts      reads of tracks and records (track-reader.ts, tracks-reader.ts)
//   destager.ts       sealed segments to disk, group commit with partial parity
//   engine-status.ts  open, stopped by an I/O error, closed
//   engine-hooks.ts   what upper layers plug in (pins, collector, update listener, logger)
//   engine-ports.ts   the narrow face of the engine each of its users gets
// open-array.ts creates or opens an array, recovers it and attaches the hooks (pins first,
// then the collector). The engine keeps the shared state (volumes and their directories, the
// segment table, the pending list, the statistics) and the lifecycle (close, abandon).
//
// Concurrency: JavaScript runs one task at a time, so every mutation of the directory and the
// segment table happens in one synchronous block; only disk I/O awaits.

import { ClosedError, assert } from '../errors';
import type { Logger } from '../util/log';
import type { DiskArray } from '../array/disk-array';
import type { Layout } from '../array/geometry';
import type { Clock } from '../io/clock';
import type { LockFile } from '../io/lock-file';
import { VolumeDirectory, type Entry } from './directory';
import { SegmentBufferPool } from './segment-buffers';
import { SegmentWriter } from './segment-writer';
import { ReadPath } from './read-path';
import type { NvramStore, VolumeRow } from './nvram';
import { DirectoryJournal } from './directory-journal';
import { recordBytes, type RecordHeader } from './record-format';
import { SegmentTable } from './segment-table';
import { EngineStatus } from './engine-status';
import { Destager, SEALED_QUEUE_MAX } from './destager';
import { SegmentLog, type AppendedRecord } from './segment-log';
import { Space } from './space';
import { PendingDirectory } from './pending-directory';
import { volumeById, type VolumeState } from './volume-state';
import { HostWriter } from './host-writes';
import { STREAMS, type Placement } from './placement';
import type { CheckTarget, CollectorTarget, EngineStats, HostIo, PendingHost, UpdateSource } from './engine-ports';
import { defaultHooks, type EngineHooks, type RecordPins, type RoomMaker, type UpdateListener } from './engine-hooks';

/** After a restart, sequence numbers jump by this much, so that no record written but not
 * committed before a crash can ever look newer than a record written after it. */
export const SEQ_GAP_ON_OPEN = 2 ** 24;

export type { VolumeState } from './volume-state';

export type { EngineStats } from './engine-ports';

export interface EngineParts {
  dir: string;
  array: DiskArray;
  nvram: NvramStore;
  clock: Clock;
  lock: LockFile | null;
  log?: Logger;
}

/** The hooks open-array.ts plugs in once the engine is recovered (see attach). */
export interface AttachedHooks {
  pins?: RecordPins | null;
  roomMaker?: RoomMaker | null;
  placement?: Placement;
}

export class LsaEngine implements HostIo, UpdateSource, PendingHost, CollectorTarget, CheckTarget {
  readonly layout: Layout;
  readonly segments: SegmentTable;
  readonly volumesByName = new Map<string, VolumeState>();
  readonly volumesById = new Map<number, VolumeState>();
  /** How the directories reach NVRAM: pages and a log of changed entries. */
  readonly journal = new DirectoryJournal();
  readonly stats: EngineStats = { hostBytesWritten: 0, hostBytesTrimmed: 0, gcBytesMoved: 0, segmentsCollected: 0, commits: 0, recordsRepaired: 0 };
  /** The next write sequence (host-writes.ts). */
  get nextSeq(): number {
    return this.hostWriter.nextSeq;
  }
  set nextSeq(seq: number) {
    this.hostWriter.nextSeq = seq;
  }

  readonly pending = new PendingDirectory();
  /** More NVRAM meta keys committed with every commit (the remote copy's watermarks). */
  private readonly extraMeta: Record<string, string> = {};
  /** What upper layers plug in (engine-hooks.ts); the parts read them from here. */
  private readonly hooks: EngineHooks = defaultHooks();
  /** attach() ran: the hooks given at open are in place. */
  private attached = false;
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
  /** Host writes, trims and zeroing, and their update events (host-writes.ts). */
  readonly hostWriter: HostWriter;
  /** Reads of tracks and records (read-path.ts). */
  readonly readPath: ReadPath;
  /** Room for host and collector records, and the collector's reserve (space.ts). */
  private readonly space: Space;

  /** The snapshots' pins (a secondary's), given at open. */
  get pins(): RecordPins | null {
    return this.hooks.pins;
  }
  /** The collector, attached at open (none with gcPolicy false). */
  get roomMaker(): RoomMaker | null {
    return this.hooks.roomMaker;
  }
  get placement(): Placement {
    return this.hooks.placement;
  }
  get log(): Logger {
    return this.hooks.log;
  }

  constructor(parts: EngineParts) {
    if (parts.log) this.hooks.log = parts.log;
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
    this.hostWriter = new HostWriter({
      layout: this.layout, clock: this.clock, segments: this.segments, volumesById: this.volumesById, stats: this.stats,
      hooks: this.hooks, space: this.space, segmentLog: this.segmentLog, destager: this.destager,
    });
    this.readPath = new ReadPath({
      layout: this.layout, array: this.array, segments: this.segments, volumesById: this.volumesById, inMemory: this.segmentLog.inMemory,
      status: this.status, hooks: this.hooks, stats: this.stats, mover: this,
    });
  }

  // ---- state loading and hooks (used by open and create) ----

  /** Plugs in the snapshots' pins and the collector. open-array.ts calls it once, after
   * recovery and before the engine is handed out, pins first, so that no collection ever runs
   * without the pins (the hook objects need the recovered engine, hence not the constructor). */
  attach(h: AttachedHooks): void {
    assert(!this.attached, 'the engine\'s hooks are attached once, at open');
    this.attached = true;
    if (h.pins !== undefined) this.hooks.pins = h.pins;
    if (h.roomMaker !== undefined) this.hooks.roomMaker = h.roomMaker;
    if (h.placement !== undefined) this.hooks.placement = h.placement;
  }

  /** The collector's policy changed: its placement applies from the next record on. */
  usePlacement(p: Placement): void {
    this.hooks.placement = p;
  }

  /** The primary side of a remote copy starts (or stops, with null) listening to updates
   * and commits. A runtime attachment, not an open option: the primary starts after the NBD
   * server listens and finds writes made before it by its resync. */
  setUpdateListener(listener: UpdateListener | null): void {
    this.hooks.updateListener = listener;
  }

  /** An NVRAM meta key committed with every commit from now on (the secondary's watermarks). */
  setCommitMeta(key: string, value: string): void {
    this.extraMeta[key] = value;
  }

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
    return volumeById(this.volumesById, id);
  }

  /** Writes whole tracks (host-writes.ts). */
  writeTracks(volumeId: number, firstTrack: number, data: Buffer): Promise<void> {
    return this.hostWriter.writeTracks(volumeId, firstTrack, data);
  }

  /** Trims (TRIM) or zeroes (ZERO, allocated zeros) whole tracks (host-writes.ts). */
  trimTracks(volumeId: number, firstTrack: number, count: number, zero: boolean): Promise<void> {
    return this.hostWriter.trimTracks(volumeId, firstTrack, count, zero);
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

  // ---- reads (read-path.ts) ----

  /** Reads one whole track into `out` at `at` (read-path.ts). */
  readTrack(volumeId: number, track: number, out: Buffer, at: number, from?: VolumeDirectory): Promise<void> {
    return this.readPath.readTrack(volumeId, track, out, at, from);
  }

  /** Reads `count` whole tracks from `first` into `out` at `at` (read-path.ts). */
  readTracks(volumeId: number, first: number, count: number, out: Buffer, at: number, from?: VolumeDirectory): Promise<void> {
    return this.readPath.readTracks(volumeId, first, count, out, at, from);
  }

  /** The record's bytes rebuilt from the other columns and parity, or null if impossible. */
  rebuildRecord(e: Entry): Promise<Buffer | null> {
    return this.readPath.rebuildRecord(e);
  }

  /** The bytes of the record an entry points at, from memory or from its data column. */
  readRecordBytes(e: Entry): Promise<Buffer> {
    return this.readPath.readRecordBytes(e);
  }

  /** Segment bytes as the engine sees them (memory first), for the checker and inspection. */
  readSegmentData(segment: number, from: number, to: number): Promise<Buffer> {
    return this.readPath.readSegmentData(segment, from, to);
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
    await this.hooks.roomMaker?.stop();
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
