// Storing, applying and dropping the updates of the write-pending directory
// (pending-directory.ts) on a secondary: an update from the primary is appended as records
// right away and listed as pending; COMMITs from the primary apply the listed updates, in
// sequence order, to the volume directories.

import { OutOfSpaceError, assert } from '../errors';
import type { PendingHost } from './engine-ports';
import type { PendingRow } from './pending-directory';
import { isTrimLike, recordBytes, RECORD_FLAG_TRIM, TRIM_TRACKS_MAX } from './record-format';
import { RESERVED_SEGMENTS } from './space';
import { STREAM_HOST } from './placement';
import type { VolumeState } from './volume-state';

/** Makes sure an update of `count` tracks (`data`: whole tracks of data, else one trim record)
 * can be stored without eating the collector's reserve: asks the collector for room first, as a
 * host write does (an update is stored synchronously, so the background collector gets no
 * chance in the middle of a burst). Fails with OutOfSpaceError when nothing can be freed. */
export async function roomForPending(engine: PendingHost, count: number, data: boolean): Promise<void> {
  const need = segmentsForPending(engine, count, data);
  const enough = (): boolean => engine.segments.countIn('free') >= need;
  if (!enough() && engine.roomMaker) await engine.roomMaker.makeRoom(enough);
  if (!enough()) {
    throw new OutOfSpaceError(`the secondary is full: no room for ${count} more track(s) of pending updates; give it bigger disks than the primary's volumes need, or collect garbage there`, {
      freeSegments: engine.segments.countIn('free'), needSegments: need,
    });
  }
}

/** True if an update of `count` tracks can be stored now without asking the collector (the
 * common case: roomForPending is then not needed). */
export function pendingFits(engine: PendingHost, count: number, data: boolean): boolean {
  return engine.segments.countIn('free') >= segmentsForPending(engine, count, data);
}

/** Free segments an update needs: the segments its records fill, one more for the open
 * segment's tail, and the collector's reserve. */
function segmentsForPending(engine: PendingHost, count: number, data: boolean): number {
  const bytes = data ? count * recordBytes(engine.layout.trackBytes) : recordBytes(0);
  return RESERVED_SEGMENTS + 1 + Math.ceil(bytes / engine.layout.segmentDataBytes);
}

/** Stores a primary update as pending records (synchronously). Data tracks get sequences
 * seq .. seq + count - 1, as on the primary. */
export function storePending(engine: PendingHost, u: { volumeId: number; track: number; count: number; kind: 'write' | 'trim' | 'zero'; data: Buffer | null; seq: number; timestampMs: number }, flags: number): void {
  const tb = engine.layout.trackBytes;
  const stream = 0;
  if (u.kind === 'write') {
    assert(u.data && u.data.length === u.count * tb, 'update data is whole tracks');
    for (let i = 0; i < u.count; i++) {
      const seq = u.seq + i;
      if (engine.pending.has(seq, u.track + i)) continue; // a duplicate (replayed after a reconnect)
      const payload = u.data.subarray(i * tb, (i + 1) * tb);
      const r = engine.segmentLog.appendRecord(stream, 0, u.volumeId, u.track + i, 1, payload, seq);
      engine.segments.addLive(r.segment, r.bytes);
      engine.pending.add({
        seq, volumeId: u.volumeId, track: u.track + i, trackCount: 1, flags: 0, segment: r.segment, slot: r.slot,
        recordBytes: r.bytes, payloadBytes: tb, payloadCrc: r.crc, timestampMs: u.timestampMs,
      });
    }
    return;
  }
  if (engine.pending.has(u.seq, u.track)) return;
  const r = engine.segmentLog.appendRecord(stream, flags, u.volumeId, u.track, u.count, null, u.seq);
  engine.segments.addLive(r.segment, r.bytes);
  engine.pending.add({
    seq: u.seq, volumeId: u.volumeId, track: u.track, trackCount: u.count, flags, segment: r.segment, slot: r.slot,
    recordBytes: r.bytes, payloadBytes: 0, payloadCrc: 0, timestampMs: u.timestampMs,
  });
}

/** Applies pending updates with sequence <= `through`, in sequence order, to the volume
 * directories: a track takes an update only if it is newer than what it has. Synchronous.
 * Returns how many pending rows were consumed. */
export function applyPending(engine: PendingHost, through: number, filter?: (row: PendingRow) => boolean): number {
  let n = 0;
  for (const row of engine.pending.rows()) {
    if (row.seq > through) break;
    if (filter && !filter(row)) continue;
    engine.pending.remove(row);
    n++;
    const v = engine.volumesById.get(row.volumeId);
    // pending bytes stop counting; what the directory takes counts again below
    engine.segments.addLive(row.segment, -row.recordBytes);
    if (!v) continue;
    const dir = v.directory;
    if (isTrimLike(row.flags)) {
      const end = Math.min(v.tracks, row.track + row.trackCount);
      engine.hostWriter.pointAtTrim(v, row.track, end - row.track, row.flags, row.seq, row.segment, row.slot, row.recordBytes, true);
      continue;
    }
    if (row.track >= v.tracks) continue;
    if (dir.segmentOf(row.track) !== 0 && dir.seqOf(row.track) >= row.seq) continue; // already newer
    engine.hostWriter.unlink(dir.get(row.track), v.row.id, row.track);
    dir.set(row.track, { segment: row.segment, slot: row.slot, recordBytes: row.recordBytes, payloadCrc: row.payloadCrc, flags: row.flags, payloadBytes: row.payloadBytes, seq: row.seq });
    engine.segments.addLive(row.segment, row.recordBytes);
  }
  if (n > 0) engine.markChanged();
  return n;
}

/** Forgets every pending update (after a reconnect the primary resends what is needed). */
export function dropPending(engine: PendingHost): number {
  const rows = engine.pending.rows();
  for (const row of rows) {
    engine.pending.remove(row);
    engine.segments.addLive(row.segment, -row.recordBytes);
  }
  if (rows.length > 0) engine.markChanged();
  return rows.length;
}

/** Before a full copy into a volume that already holds data (made by an earlier pair or by
 * hand): points every track at a TRIM record of sequence 0, older than any update of a
 * primary, so tracks the primary never wrote read as zeros like on the primary, and every
 * update of the copy still applies over it. Synchronous; returns the data tracks dropped. */
export function forgetContent(engine: PendingHost, v: VolumeState): number {
  const held = v.directory.countAllocated((f) => !isTrimLike(f));
  if (held === 0) return 0;
  for (let first = 0; first < v.tracks; first += TRIM_TRACKS_MAX) {
    const count = Math.min(TRIM_TRACKS_MAX, v.tracks - first);
    const r = engine.segmentLog.appendRecord(STREAM_HOST, RECORD_FLAG_TRIM, v.row.id, first, count, null, 0);
    engine.hostWriter.pointAtTrim(v, first, count, RECORD_FLAG_TRIM, 0, r.segment, r.slot, r.bytes);
  }
  engine.markChanged();
  return held;
}
