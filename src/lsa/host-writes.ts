// Host writes: whole tracks in, records appended, the directory pointed at them, the update
// events out. Each data track gets the next write sequence (the serializer's token of the seed)
// and its own record, compressed if the volume asks for it (track-codec.ts); a run of
// zero-filled tracks becomes one ZERO record (up to TRIM_TRACKS_MAX tracks) that takes no data
// space; TRIM and ZERO requests become trim records the same way. The old record of each track
// stops counting in its segment (unless a snapshot pins it). Every update is announced to the
// update listener (the remote copy's primary) right after it is appended; a promise it returns
// makes the host write wait (synchronous remote copy).
//
// Everything between the room check and the last append is synchronous: the directory, the
// segment table and the sequence change at one instant as far as other tasks can tell.

import { assert } from '../errors';
import type { Layout } from '../array/geometry';
import type { Clock } from '../io/clock';
import type { Destager } from './destager';
import type { Entry } from './directory';
import type { EngineHooks } from './engine-hooks';
import { STREAM_HOST } from './placement';
import { COMPRESSION_NONE, RECORD_FLAG_TRIM, RECORD_FLAG_ZERO, TRIM_TRACKS_MAX, isTrimLike, recordBytes } from './record-format';
import type { SegmentLog } from './segment-log';
import type { SegmentTable } from './segment-table';
import { RESERVED_SEGMENTS, type Space } from './space';
import { checkCompressMode, codecOf, compressTrack, flagsOfCodec } from './track-codec';
import { volumeById, type VolumeState } from './volume-state';

export interface HostWriterParts {
  layout: Layout;
  clock: Clock;
  segments: SegmentTable;
  volumesById: ReadonlyMap<number, VolumeState>;
  stats: { hostBytesWritten: number; hostBytesTrimmed: number };
  hooks: EngineHooks;
  space: Space;
  segmentLog: SegmentLog;
  destager: Destager;
}

export class HostWriter {
  /** The next write sequence: every update takes the next ones (restored on open, see
   * SEQ_GAP_ON_OPEN in engine.ts). */
  nextSeq = 1;
  private readonly layout: Layout;
  private readonly clock: Clock;
  private readonly segments: SegmentTable;
  private readonly volumesById: ReadonlyMap<number, VolumeState>;
  private readonly stats: { hostBytesWritten: number; hostBytesTrimmed: number };
  private readonly hooks: EngineHooks;
  private readonly space: Space;
  private readonly segmentLog: SegmentLog;
  private readonly destager: Destager;

  constructor(p: HostWriterParts) {
    this.layout = p.layout;
    this.clock = p.clock;
    this.segments = p.segments;
    this.volumesById = p.volumesById;
    this.stats = p.stats;
    this.hooks = p.hooks;
    this.space = p.space;
    this.segmentLog = p.segmentLog;
    this.destager = p.destager;
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
    const v = volumeById(this.volumesById, volumeId);
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
    const v = volumeById(this.volumesById, volumeId);
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
