// The LSA engine: tracks in, records out. A write never overwrites a track in place: it appends
// a record to the open segment in memory and points the directory at it; the old record turns
// into garbage. A single destager writes sealed segments (data and parity) and, for a flush,
// the filled part of the open segment, then syncs the disks, and only then commits the
// directory and segment table to NVRAM (the commit-order invariant). Flushes that arrive while
// one is running share the next commit (group commit).
//
// Concurrency: JavaScript runs one task at a time, so every mutation of the directory and the
// segment table happens in one synchronous block; only disk I/O awaits.

import { ClosedError, CorruptionError, InvalidArgumentError, OutOfSpaceError, assert } from '../errors';
import type { DiskArray } from '../array/disk-array';
import { xorInto } from '../array/parity';
import type { Layout } from '../array/geometry';
import type { Clock } from '../io/clock';
import type { LockFile } from '../io/lock-file';
import { VolumeDirectory, type Entry } from './directory';
import { MemSegment } from './mem-segment';
import type { NvramStore, PageWrite, VolumeRow } from './nvram';
import {
  RECORD_FLAG_TRIM, RECORD_FLAG_ZERO, RECORD_HEADER_BYTES, TRIM_TRACKS_MAX,
  encodeHeader, isTrimLike, recordBytes, tryDecodeHeader, type RecordHeader,
} from './record-format';
import { SegmentTable } from './segment-table';
import { crc32 } from 'node:zlib';

/** Sealed segments waiting for the destager; writers wait when this many are queued. */
export const SEALED_QUEUE_MAX = 2;
/** Free segments kept back from host writes so the collector can always make progress. */
export const RESERVED_SEGMENTS = 3;
/** Open streams: host writes (hot), host writes (cold), collector output. */
export const STREAM_HOST = 0;
export const STREAM_HOST_COLD = 1;
export const STREAM_GC = 2;
export const STREAMS = 3;

/** Chooses the open segment (stream) for host and collector writes; the separating policy
 * of the collector plugs in here. */
export interface Placement {
  hostStream(volumeId: number, track: number, previousSeq: number, nowSeq: number): number;
  gcStream(seq: number, nowSeq: number): number;
}

export const defaultPlacement: Placement = {
  hostStream: () => STREAM_HOST,
  gcStream: () => STREAM_HOST,
};

/** The collector, as the engine sees it: asked to make room when a write finds none. */
export interface RoomMaker {
  makeRoom(enough: () => boolean): Promise<void>;
  /** A segment was opened (free space shrank): collect in the background if it is low. */
  notice(): void;
}
/** After a restart, sequence numbers jump by this much, so that no record written but not
 * committed before a crash can ever look newer than a record written after it. */
export const SEQ_GAP_ON_OPEN = 2 ** 24;

export interface VolumeState {
  row: VolumeRow;
  tracks: number;
  directory: VolumeDirectory;
}

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

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class LsaEngine {
  readonly layout: Layout;
  readonly segments: SegmentTable;
  readonly volumesByName = new Map<string, VolumeState>();
  readonly volumesById = new Map<number, VolumeState>();
  readonly stats: EngineStats = { hostBytesWritten: 0, hostBytesTrimmed: 0, gcBytesMoved: 0, segmentsCollected: 0, commits: 0, recordsRepaired: 0 };
  nextSeq = 1;

  /** Segments whose bytes are (also) in memory: the open one and sealed ones not yet written. */
  private mem = new Map<number, MemSegment>();
  private open = new Map<number, MemSegment>();
  placement: Placement = defaultPlacement;
  roomMaker: RoomMaker | null = null;
  private sealedQueue: MemSegment[] = [];
  private flushWaiters: Waiter[] = [];
  private roomWaiters: Waiter[] = [];
  private destaging = false;
  private changedSinceCommit = false;
  private failure: unknown = null;
  private closed = false;

  readonly dir: string;
  readonly array: DiskArray;
  readonly nvram: NvramStore;
  readonly clock: Clock;
  private lock: LockFile | null;

  constructor(parts: EngineParts) {
    this.dir = parts.dir;
    this.array = parts.array;
    this.nvram = parts.nvram;
    this.clock = parts.clock;
    this.lock = parts.lock;
    this.layout = parts.array.layout;
    this.segments = new SegmentTable(this.layout.segments);
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
  async resumeOpenSegment(segment: number, fillBytes: number): Promise<void> {
    const mem = new MemSegment(segment, this.layout);
    for (const p of mem.pieces(0, fillBytes)) {
      await this.array.readColumn(segment, p.column, p.offset, mem.buffer.subarray(p.start, p.end));
    }
    mem.fill = fillBytes;
    mem.written = fillBytes;
    this.mem.set(segment, mem);
    const stream = this.segments.row(segment).stream;
    if (this.open.has(stream) || stream < 0 || stream >= STREAMS) this.seal(mem); // a second open segment of one stream: close it
    else this.open.set(stream, mem);
  }

  // ---- writes ----

  private checkUsable(): void {
    if (this.closed) throw new ClosedError('the array is closed');
    if (this.failure) {
      throw new ClosedError(
        `the array stopped after an I/O error (${(this.failure as Error).message}); reopen it to recover from the last commit`,
        {},
      );
    }
  }

  volume(id: number): VolumeState {
    const v = this.volumesById.get(id);
    if (!v) throw new InvalidArgumentError(`no volume with id ${id}`);
    return v;
  }

  /** Waits until the destager has room for more sealed segments (bounded memory). */
  private async waitForRoom(): Promise<void> {
    while (this.sealedQueue.length >= SEALED_QUEUE_MAX && !this.failure) {
      await new Promise<void>((resolve, reject) => this.roomWaiters.push({ resolve, reject }));
    }
    this.checkUsable();
  }

  /** Records that surely fit before the host runs into the collector's reserve, whichever
   * host stream they go to. */
  private hostRecordsAvailable(bytes: number, reserve: number): number {
    const free = this.segments.countIn('free') - reserve;
    const perSegment = Math.floor(this.layout.columnBytes / bytes) * this.layout.dataColumns;
    let left = Infinity;
    for (const stream of [STREAM_HOST, STREAM_HOST_COLD]) {
      const mem = this.open.get(stream);
      left = Math.min(left, mem ? mem.recordsLeft(bytes) : 0);
    }
    return left + Math.max(0, free) * perSegment;
  }

  /** Waits for the collector if the host has no room, then fails if there still is none. */
  private async ensureSpace(records: number, bytesEach: number, reserve = RESERVED_SEGMENTS): Promise<void> {
    const enough = (): boolean => records <= this.hostRecordsAvailable(bytesEach, reserve);
    if (!enough() && this.roomMaker) {
      await this.roomMaker.makeRoom(enough);
      this.checkUsable();
    }
    if (!enough()) {
      throw new OutOfSpaceError(
        `the array is full: no free segment for ${records} more record(s); trim unused data or collect garbage (lsa gc)`,
        { records, freeSegments: this.segments.countIn('free') },
      );
    }
  }

  /** Appends one record; returns its segment and slot. Synchronous. */
  private append(stream: number, flags: number, volumeId: number, track: number, trackCount: number, payload: Buffer | null, seq: number, crcKnown = -1): { segment: number; slot: number; bytes: number; crc: number } {
    const payloadBytes = payload ? payload.length : 0;
    const bytes = recordBytes(payloadBytes);
    let mem = this.open.get(stream);
    let slot = mem ? mem.place(bytes) : -1;
    if (!mem || slot < 0) {
      if (mem) this.seal(mem);
      mem = this.openSegment(stream);
      slot = mem.place(bytes);
      assert(slot >= 0, 'a record fits an empty segment');
    }
    const crc = payload ? (crcKnown >= 0 ? crcKnown : crc32(payload)) : 0;
    encodeHeader({ flags, volumeId, payloadBytes, track, seq, trackCount, payloadCrc: crc }, mem.buffer, slot);
    if (payload) payload.copy(mem.buffer, slot + RECORD_HEADER_BYTES);
    const end = slot + bytes;
    mem.buffer.fill(0, slot + RECORD_HEADER_BYTES + payloadBytes, end);
    mem.fill = end;
    const row = this.segments.row(mem.segment);
    row.fillBytes = end;
    row.seqLast = Math.max(row.seqLast, seq);
    this.segments.touch(mem.segment);
    this.changedSinceCommit = true;
    return { segment: mem.segment, slot, bytes, crc };
  }

  private openSegment(stream: number): MemSegment {
    const segment = this.segments.firstFree();
    if (segment < 0) throw new OutOfSpaceError('no free segment left');
    this.segments.transition(segment, 'open');
    const row = this.segments.row(segment);
    row.liveBytes = 0;
    row.trimRefs = 0;
    row.fillBytes = 0;
    row.seqLast = 0;
    row.closedAtMs = 0;
    row.stream = stream;
    const mem = new MemSegment(segment, this.layout);
    this.mem.set(segment, mem);
    this.open.set(stream, mem);
    this.roomMaker?.notice();
    return mem;
  }

  private seal(mem: MemSegment): void {
    mem.sealed = true;
    this.segments.transition(mem.segment, 'closed');
    this.segments.row(mem.segment).closedAtMs = this.clock.nowMs();
    this.sealedQueue.push(mem);
    const stream = this.segments.row(mem.segment).stream;
    if (this.open.get(stream) === mem) this.open.delete(stream);
    this.kickDestager();
  }

  /** Drops whatever a track's directory entry pointed at from its segment's accounting. */
  private unlink(e: Entry): void {
    if (e.segment === 0) return;
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
    await this.waitForRoom();
    const zero = zeroTrack(tb);
    const isZero: boolean[] = [];
    let records = 0;
    for (let i = 0; i < count; i++) {
      isZero.push(data.subarray(i * tb, (i + 1) * tb).equals(zero));
      if (!isZero[i] || i === 0 || !isZero[i - 1]) records++;
    }
    await this.ensureSpace(records, recordBytes(tb));
    const dir = v.directory;
    for (let i = 0; i < count;) {
      const track = firstTrack + i;
      if (isZero[i]) {
        let run = 1;
        while (i + run < count && isZero[i + run] && run < TRIM_TRACKS_MAX) run++;
        this.appendTrim(v, track, run, RECORD_FLAG_ZERO);
        i += run;
        continue;
      }
      const seq = this.nextSeq++;
      const payload = data.subarray(i * tb, (i + 1) * tb);
      const old = dir.get(track);
      const stream = this.placement.hostStream(volumeId, track, old.segment === 0 ? -1 : old.seq, seq);
      const r = this.append(stream, 0, volumeId, track, 1, payload, seq);
      this.unlink(old);
      dir.set(track, { segment: r.segment, slot: r.slot, recordBytes: r.bytes, payloadCrc: r.crc, flags: 0, payloadBytes: tb, seq });
      this.segments.addLive(r.segment, r.bytes);
      i++;
    }
    this.stats.hostBytesWritten += data.length;
  }

  /** Trims (TRIM) or zeroes (ZERO, allocated zeros) whole tracks. */
  async trimTracks(volumeId: number, firstTrack: number, count: number, zero: boolean): Promise<void> {
    const v = this.volume(volumeId);
    assert(Number.isInteger(count) && count >= 0 && firstTrack >= 0 && firstTrack + count <= v.tracks, 'trimTracks range inside the volume');
    if (count === 0) return;
    await this.waitForRoom();
    // a trim frees space, so it may dip into the collector's reserve (all but one segment)
    await this.ensureSpace(Math.ceil(count / TRIM_TRACKS_MAX), recordBytes(0), 1);
    for (let done = 0; done < count;) {
      const run = Math.min(TRIM_TRACKS_MAX, count - done);
      this.appendTrim(v, firstTrack + done, run, zero ? RECORD_FLAG_ZERO : RECORD_FLAG_TRIM);
      done += run;
    }
    this.stats.hostBytesTrimmed += count * this.layout.trackBytes;
  }

  private appendTrim(v: VolumeState, firstTrack: number, count: number, flags: number): void {
    const seq = this.nextSeq++;
    const r = this.append(STREAM_HOST, flags, v.row.id, firstTrack, count, null, seq);
    const dir = v.directory;
    for (let t = firstTrack; t < firstTrack + count; t++) {
      this.unlink(dir.get(t));
      dir.set(t, { segment: r.segment, slot: r.slot, recordBytes: r.bytes, payloadCrc: 0, flags, payloadBytes: 0, seq });
    }
    this.segments.addTrimRefs(r.segment, count);
  }

  // ---- the collector's move ----

  /** Records found in a segment's data area, in slot order (a scan stops at the first bytes
   * in a column that are not a valid header: the zero tail of the column). */
  scanRecords(data: Buffer): { slot: number; header: RecordHeader }[] {
    const cb = this.layout.columnBytes;
    const out: { slot: number; header: RecordHeader }[] = [];
    for (let c = 0; c < this.layout.dataColumns; c++) {
      const end = (c + 1) * cb;
      for (let pos = c * cb; pos + RECORD_HEADER_BYTES <= end;) {
        const h = tryDecodeHeader(data, pos);
        if (!h) break;
        const bytes = recordBytes(h.payloadBytes);
        if (pos + bytes > end) break;
        out.push({ slot: pos, header: h });
        pos += bytes;
      }
    }
    return out;
  }

  /** Tracks of a record that the directory still points at (the record is live if any). */
  liveTracksOf(segment: number, slot: number, h: RecordHeader): number[] {
    const v = this.volumesById.get(h.volumeId);
    if (!v) return [];
    const dir = v.directory;
    const out: number[] = [];
    const end = Math.min(v.tracks, h.track + (isTrimLike(h.flags) ? h.trackCount : 1));
    for (let t = h.track; t < end; t++) {
      if (dir.segmentOf(t) === segment && dir.slotOf(t) === slot && dir.seqOf(t) === h.seq) out.push(t);
    }
    return out;
  }

  /** Moves the live records of a victim segment (its whole data area in `data`) to the
   * collector's stream. Synchronous, so liveness is decided and acted on at one instant.
   * A record whose payload fails its CRC is left in place (the victim then stays closed). */
  relocateLive(victim: number, data: Buffer, byAge: boolean): { records: number; bytes: number; corrupt: number } {
    const found = this.scanRecords(data).map((r) => ({ ...r, tracks: this.liveTracksOf(victim, r.slot, r.header) })).filter((r) => r.tracks.length > 0);
    if (byAge) found.sort((a, b) => a.header.seq - b.header.seq);
    const result = { records: 0, bytes: 0, corrupt: 0 };
    for (const r of found) {
      const h = r.header;
      const payload = h.payloadBytes > 0 ? data.subarray(r.slot + RECORD_HEADER_BYTES, r.slot + RECORD_HEADER_BYTES + h.payloadBytes) : null;
      if (payload && crc32(payload) !== h.payloadCrc) {
        result.corrupt++;
        continue;
      }
      const moved = this.append(this.placement.gcStream(h.seq, this.nextSeq), h.flags, h.volumeId, h.track, h.trackCount, payload, h.seq, h.payloadCrc);
      const dir = this.volumesById.get(h.volumeId)!.directory;
      for (const t of r.tracks) dir.relocate(t, moved.segment, moved.slot);
      if (isTrimLike(h.flags)) {
        this.segments.addTrimRefs(victim, -r.tracks.length);
        this.segments.addTrimRefs(moved.segment, r.tracks.length);
      } else {
        this.segments.addLive(victim, -moved.bytes);
        this.segments.addLive(moved.segment, moved.bytes);
        result.bytes += h.payloadBytes;
      }
      result.records++;
    }
    this.stats.gcBytesMoved += result.bytes;
    return result;
  }

  /** Records the collector can surely place before it runs out of free segments. */
  gcRecordsAvailable(bytes: number): number {
    const perSegment = Math.floor(this.layout.columnBytes / bytes) * this.layout.dataColumns;
    const mem = this.open.get(STREAM_GC);
    const left = Math.min(mem ? mem.recordsLeft(bytes) : 0, this.open.get(STREAM_HOST)?.recordsLeft(bytes) ?? 0);
    return left + this.segments.countIn('free') * perSegment;
  }

  /** A collected segment returns to the free pool (after the commit that moved its data). */
  releaseSegment(segment: number): void {
    const row = this.segments.row(segment);
    assert(row.liveBytes === 0 && row.trimRefs === 0, `segment ${segment} released with live data`);
    this.segments.transition(segment, 'free');
    row.fillBytes = 0;
    row.seqLast = 0;
    row.closedAtMs = 0;
    this.stats.segmentsCollected++;
    this.changedSinceCommit = true;
  }

  // ---- reads ----

  /** Reads one whole track into `out` at `at`. Zeros for tracks never written or trimmed. */
  async readTrack(volumeId: number, track: number, out: Buffer, at: number): Promise<void> {
    this.checkUsable();
    const tb = this.layout.trackBytes;
    const v = this.volume(volumeId);
    assert(track >= 0 && track < v.tracks, 'readTrack inside the volume');
    const dir = v.directory;
    for (let attempt = 0; ; attempt++) {
      const e = dir.get(track);
      if (e.segment === 0 || isTrimLike(e.flags)) {
        out.fill(0, at, at + tb);
        return;
      }
      const rec = await this.readRecordBytes(e);
      const h = tryDecodeHeader(rec, 0);
      const moved = dir.segmentOf(track) !== e.segment || dir.seqOf(track) !== e.seq;
      if (!h || h.volumeId !== volumeId || h.track !== track || h.seq !== e.seq || h.payloadBytes !== e.payloadBytes) {
        if (moved && attempt < 100) continue; // rewritten or moved while we read: look again
        throw new CorruptionError(
          `volume ${v.row.name} track ${track} (bytes ${track * tb}..${(track + 1) * tb - 1}): the record at segment ${e.segment} slot ${e.slot} is not the one the directory expects`,
          { volume: v.row.name, track, segment: e.segment, slot: e.slot, offset: track * tb, length: tb },
        );
      }
      const payload = rec.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + h.payloadBytes);
      if (crc32(payload) !== h.payloadCrc || h.payloadCrc !== e.payloadCrc) {
        if (moved && attempt < 100) continue;
        throw new CorruptionError(
          `volume ${v.row.name} track ${track} (bytes ${track * tb}..${(track + 1) * tb - 1}): payload CRC mismatch in segment ${e.segment} slot ${e.slot}`,
          { volume: v.row.name, track, segment: e.segment, slot: e.slot, offset: track * tb, length: tb },
        );
      }
      assert(payload.length === tb, 'uncompressed payload is one track');
      payload.copy(out, at);
      return;
    }
  }

  /** The bytes of the record an entry points at, from memory or from its data column. */
  async readRecordBytes(e: Entry): Promise<Buffer> {
    const mem = this.mem.get(e.segment);
    if (mem) return Buffer.from(mem.buffer.subarray(e.slot, e.slot + e.recordBytes));
    const cb = this.layout.columnBytes;
    const column = Math.floor(e.slot / cb);
    const buf = Buffer.allocUnsafe(e.recordBytes);
    await this.array.readColumn(e.segment, column, e.slot - column * cb, buf);
    return buf;
  }

  /** Segment bytes as the engine sees them (memory first), for the checker and inspection. */
  async readSegmentData(segment: number, from: number, to: number): Promise<Buffer> {
    const mem = this.mem.get(segment);
    if (mem) return Buffer.from(mem.buffer.subarray(from, to));
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
    return this.mem.has(segment);
  }

  get openSegmentIndex(): number {
    const mem = this.open.get(STREAM_HOST) ?? [...this.open.values()][0];
    return mem ? mem.segment : -1;
  }

  openSegmentIndexes(): number[] {
    return [...this.open.values()].map((m) => m.segment);
  }

  // ---- flush and the destager ----

  /** Makes every write that completed before this call durable. */
  async flush(): Promise<void> {
    this.checkUsable();
    if (!this.changedSinceCommit && !this.segments.hasDirty() && this.sealedQueue.length === 0 && !this.destaging) return;
    await new Promise<void>((resolve, reject) => {
      this.flushWaiters.push({ resolve, reject });
      this.kickDestager();
    });
  }

  private kickDestager(): void {
    if (!this.destaging) void this.destage();
  }

  private async destage(): Promise<void> {
    this.destaging = true;
    try {
      while (!this.failure) {
        if (this.sealedQueue.length > 0) {
          const mem = this.sealedQueue[0];
          await this.writeSealed(mem);
          this.sealedQueue.shift();
          this.mem.delete(mem.segment);
          this.wake(this.roomWaiters, null);
          continue;
        }
        if (this.flushWaiters.length > 0) {
          await this.groupCommit();
          continue;
        }
        break;
      }
    } catch (err) {
      this.failure = err;
      this.wake(this.flushWaiters, err);
      this.wake(this.roomWaiters, err);
    } finally {
      this.destaging = false;
    }
  }

  private wake(waiters: Waiter[], err: unknown): void {
    const list = waiters.splice(0, waiters.length);
    for (const w of list) (err ? w.reject(err) : w.resolve());
  }

  private async writeRange(mem: MemSegment, to: number): Promise<void> {
    const pieces = mem.pieces(mem.written, to);
    await Promise.all(pieces.map((p) => this.array.writeColumn(mem.segment, p.column, p.offset, mem.buffer.subarray(p.start, p.end))));
    mem.written = Math.max(mem.written, to);
  }

  /** Writes the rest of a sealed segment's data columns and its parity column. */
  private async writeSealed(mem: MemSegment): Promise<void> {
    const end = this.layout.segmentDataBytes;
    const cb = this.layout.columnBytes;
    const parity = Buffer.alloc(cb);
    for (let c = 0; c < this.layout.dataColumns; c++) xorInto(parity, mem.buffer.subarray(c * cb, (c + 1) * cb));
    await Promise.all([this.writeRange(mem, end), this.array.writeParity(mem.segment, 0, parity)]);
  }

  /** One group commit: capture the state, write the open segment up to its fill, sync, commit. */
  private async groupCommit(): Promise<void> {
    const waiters = this.flushWaiters.splice(0, this.flushWaiters.length);
    const opens = [...this.open.values()].map((mem) => ({ mem, fill: mem.fill }));
    const pages: PageWrite[] = [];
    for (const v of this.volumesById.values()) {
      for (const p of v.directory.takeDirtyPages()) pages.push({ volumeId: v.row.id, pageNo: p.pageNo, bytes: p.bytes });
    }
    const rows = this.segments.takeDirtyRows();
    const meta = this.metaSnapshot();
    this.changedSinceCommit = false;
    try {
      await Promise.all(opens.map((o) => this.writeRange(o.mem, o.fill)));
      await this.array.sync();
      this.nvram.commit({ pages, segments: rows, meta });
      this.stats.commits++;
    } catch (err) {
      this.wake(waiters, err);
      throw err;
    }
    this.wake(waiters, null);
  }

  metaSnapshot(): Record<string, string> {
    return {
      nextSeq: String(this.nextSeq),
      stats: JSON.stringify(this.stats),
    };
  }

  // ---- lifecycle ----

  get failed(): unknown {
    return this.failure;
  }

  /** Flushes, then closes disks and NVRAM. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (!this.failure) await this.flush();
    this.closed = true;
    this.nvram.close();
    await this.array.close();
    this.lock?.release();
  }

  /** Stops without flushing, as a crash would (for simulations): memory is thrown away. */
  async abandon(): Promise<void> {
    this.closed = true;
    this.failure = this.failure ?? new ClosedError('abandoned');
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
