// Moving live records out of a segment, for the collector and for repair. Two ways to find
// them:
//   - scan: parse the segment's data area column by column (fast; a column's scan stops at the
//     first bytes that are not a valid header, which is normally its zero tail);
//   - directory: every directory entry that points into the segment (slow, a full walk of the
//     directories; used when a scan could not account for all live data, e.g. after bit rot
//     in a header), reading each record through parity reconstruction when it fails its checks.
// Each move is synchronous: liveness is decided and acted on at one instant. A scanned
// victim's records move a chunk at a time, with host I/O in between.

import { crc32 } from 'node:zlib';
import { ENTRY_WORDS, type Entry, type VolumeDirectory } from './directory';
import type { CollectorTarget } from './engine-ports';
import { RECORD_HEADER_BYTES, isTrimLike, recordBytes, tryDecodeHeader, type RecordHeader } from './record-format';

export interface MoveResult {
  records: number;
  bytes: number;
  corrupt: number;
  /** The moves stopped because the room left could not surely take the next chunk. */
  outOfRoom?: boolean;
}

/** Records found in a segment's data area, in slot order. */
export function scanRecords(engine: Pick<CollectorTarget, 'layout'>, data: Buffer): { slot: number; header: RecordHeader }[] {
  const cb = engine.layout.columnBytes;
  const out: { slot: number; header: RecordHeader }[] = [];
  for (let c = 0; c < engine.layout.dataColumns; c++) {
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

/** Tracks of a record that the directory still points at (the record is live if any).
 * Takes only the directories, so inspection can ask it of a read-only view too. */
export function liveTracksOf(engine: Pick<CollectorTarget, 'volumesById'>, segment: number, slot: number, h: RecordHeader): number[] {
  const v = engine.volumesById.get(h.volumeId);
  if (!v) return [];
  const dir = v.directory;
  const out: number[] = [];
  const end = Math.min(v.tracks, h.track + (isTrimLike(h.flags) ? h.trackCount : 1));
  for (let t = h.track; t < end; t++) {
    if (dir.segmentOf(t) === segment && dir.slotOf(t) === slot && dir.seqOf(t) === h.seq) out.push(t);
  }
  return out;
}

/** Moves a write-pending record (live until applied); synchronous. */
function movePending(engine: CollectorTarget, victim: number, slot: number, h: RecordHeader, payload: Buffer | null): number {
  const row = engine.pending.at(victim, slot)!;
  const moved = engine.appendMoved(h, payload);
  engine.pending.move(row, moved.segment, moved.slot);
  engine.segments.addLive(victim, -moved.bytes);
  engine.segments.addLive(moved.segment, moved.bytes);
  return h.payloadBytes;
}

function isPendingAt(engine: CollectorTarget, segment: number, slot: number, h: RecordHeader): boolean {
  const p = engine.pending.at(segment, slot);
  return p !== undefined && p.seq === h.seq && p.volumeId === h.volumeId && p.track === h.track;
}

/** Snapshot (pin holder) directories that point at a record, with the tracks that do. */
export function pinnedRefs(engine: CollectorTarget, segment: number, slot: number, h: RecordHeader): { dir: VolumeDirectory; tracks: number[] }[] {
  const v = engine.volumesById.get(h.volumeId);
  if (!v || !engine.pins) return [];
  const out: { dir: VolumeDirectory; tracks: number[] }[] = [];
  const end = Math.min(v.tracks, h.track + (isTrimLike(h.flags) ? h.trackCount : 1));
  for (const dir of engine.pins.directories(h.volumeId)) {
    const tracks: number[] = [];
    for (let t = h.track; t < end; t++) {
      if (dir.segmentOf(t) === segment && dir.slotOf(t) === slot && dir.seqOf(t) === h.seq) tracks.push(t);
    }
    if (tracks.length > 0) out.push({ dir, tracks });
  }
  return out;
}

/** Moves one record (already checked) to the collector's stream, and every directory that
 * points at it (the volume's and the snapshots'); synchronous. */
function moveOne(engine: CollectorTarget, victim: number, h: RecordHeader, payload: Buffer | null, tracks: number[], pinned: { dir: VolumeDirectory; tracks: number[] }[] = []): number {
  const moved = engine.appendMoved(h, payload);
  const dir = engine.volumesById.get(h.volumeId)!.directory;
  for (const t of tracks) dir.relocate(t, moved.segment, moved.slot);
  const refTracks = new Set(tracks);
  for (const p of pinned) {
    for (const t of p.tracks) {
      p.dir.relocate(t, moved.segment, moved.slot);
      refTracks.add(t);
    }
    engine.pins!.markMoved(p.dir);
  }
  if (isTrimLike(h.flags)) {
    engine.segments.addTrimRefs(victim, -refTracks.size);
    engine.segments.addTrimRefs(moved.segment, refTracks.size);
    return 0;
  }
  engine.segments.addLive(victim, -moved.bytes);
  engine.segments.addLive(moved.segment, moved.bytes);
  return h.payloadBytes;
}

/** Records moved in one turn of the event loop: host I/O runs between two chunks, so the
 * moves out of a victim (up to a segment's worth, ~600 records of 4 KiB) do not hold every
 * host write back until the whole victim is done. */
export const MOVE_CHUNK_RECORDS = 64;

/** Moves the live records a scan of `data` (the victim's whole data area) finds, a chunk at a
 * time. Liveness is decided for each record at the instant it moves (host writes, COMMITs and
 * snapshots run between chunks), and each chunk moves only if it surely fits in the room
 * left then; when it does not, the rest stays (`outOfRoom`) and the victim is not freed.
 * Records whose payload fails its CRC stay, counted as corrupt. */
export async function relocateScanned(engine: CollectorTarget, victim: number, data: Buffer, byAge: boolean): Promise<MoveResult> {
  const found = scanRecords(engine, data);
  if (byAge) found.sort((a, b) => a.header.seq - b.header.seq);
  const recBytes = recordBytes(engine.layout.trackBytes);
  const result: MoveResult = { records: 0, bytes: 0, corrupt: 0 };
  for (let i = 0; i < found.length;) {
    if (i > 0) await new Promise((resolve) => setImmediate(resolve));
    // the next chunk: records live at this instant (dead ones are passed over)
    const chunk: { slot: number; header: RecordHeader; tracks: number[]; pinned: { dir: VolumeDirectory; tracks: number[] }[]; pending: boolean }[] = [];
    for (; i < found.length && chunk.length < MOVE_CHUNK_RECORDS; i++) {
      const { slot, header } = found[i];
      const tracks = liveTracksOf(engine, victim, slot, header);
      const pinned = pinnedRefs(engine, victim, slot, header);
      const pending = isPendingAt(engine, victim, slot, header);
      if (tracks.length > 0 || pinned.length > 0 || pending) chunk.push({ slot, header, tracks, pinned, pending });
    }
    if (chunk.length > engine.gcRecordsAvailable(recBytes)) {
      result.outOfRoom = true;
      break;
    }
    for (const r of chunk) {
      const h = r.header;
      const payload = h.payloadBytes > 0 ? data.subarray(r.slot + RECORD_HEADER_BYTES, r.slot + RECORD_HEADER_BYTES + h.payloadBytes) : null;
      if (payload && crc32(payload) !== h.payloadCrc) {
        result.corrupt++;
        continue;
      }
      result.bytes += r.pending ? movePending(engine, victim, r.slot, h, payload) : moveOne(engine, victim, h, payload, r.tracks, r.pinned);
      result.records++;
    }
  }
  engine.stats.gcBytesMoved += result.bytes;
  return result;
}

/** Directory entries (the volumes' and the snapshots') pointing into `segment`, one per record. */
function entriesIn(engine: CollectorTarget, segment: number): { volumeId: number; track: number; entry: Entry }[] {
  const bySlot = new Map<number, { volumeId: number; track: number; entry: Entry }>();
  for (const v of engine.volumesById.values()) {
    for (const dir of [v.directory, ...(engine.pins?.directories(v.row.id) ?? [])]) {
      const words = dir.words;
      for (let t = 0; t < v.tracks; t++) {
        if (words[t * ENTRY_WORDS] !== segment) continue;
        const slot = words[t * ENTRY_WORDS + 1];
        if (!bySlot.has(slot)) bySlot.set(slot, { volumeId: v.row.id, track: t, entry: dir.get(t) });
      }
    }
  }
  return [...bySlot.values()];
}

function validFor(rec: Buffer, volumeId: number, track: number, e: Entry): RecordHeader | null {
  const h = tryDecodeHeader(rec, 0);
  if (!h || h.volumeId !== volumeId || h.seq !== e.seq || h.flags !== e.flags || h.payloadBytes !== e.payloadBytes) return null;
  const covers = h.track <= track && track < h.track + (isTrimLike(h.flags) ? h.trackCount : 1);
  if (!covers) return null;
  if (h.payloadBytes > 0 && crc32(rec.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + h.payloadBytes)) !== h.payloadCrc) return null;
  return h;
}

/** Moves every record the directory still points at in `victim`, rebuilding from parity any
 * that fails its checks. What cannot be rebuilt stays (counted as corrupt). */
export async function relocateFromDirectory(engine: CollectorTarget, victim: number): Promise<MoveResult> {
  const result: MoveResult = { records: 0, bytes: 0, corrupt: 0 };
  for (const { volumeId, track, entry } of entriesIn(engine, victim)) {
    let rec: Buffer | null = null;
    try {
      rec = await engine.readRecordBytes(entry);
    } catch {
      rec = null;
    }
    let h = rec ? validFor(rec, volumeId, track, entry) : null;
    if (!h) {
      rec = await engine.rebuildRecord(entry);
      h = rec ? validFor(rec, volumeId, track, entry) : null;
      if (h) engine.stats.recordsRepaired++;
    }
    if (!h || !rec) {
      result.corrupt++;
      continue;
    }
    const tracks = liveTracksOf(engine, victim, entry.slot, h); // now, after the awaits
    const pinned = pinnedRefs(engine, victim, entry.slot, h);
    if (tracks.length === 0 && pinned.length === 0) continue;
    const payload = h.payloadBytes > 0 ? rec.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + h.payloadBytes) : null;
    result.bytes += moveOne(engine, victim, h, payload, tracks, pinned);
    result.records++;
  }
  for (const row of engine.pending.inSegment(victim)) {
    const entry: Entry = { segment: row.segment, slot: row.slot, recordBytes: row.recordBytes, payloadCrc: row.payloadCrc, flags: row.flags, payloadBytes: row.payloadBytes, seq: row.seq };
    let rec: Buffer | null = await engine.readRecordBytes(entry).catch(() => null);
    let h = rec ? validFor(rec, row.volumeId, row.track, entry) : null;
    if (!h) {
      rec = await engine.rebuildRecord(entry);
      h = rec ? validFor(rec, row.volumeId, row.track, entry) : null;
    }
    if (!h || !rec) {
      result.corrupt++;
      continue;
    }
    if (!isPendingAt(engine, victim, row.slot, h)) continue; // applied or moved meanwhile
    const payload = h.payloadBytes > 0 ? rec.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + h.payloadBytes) : null;
    result.bytes += movePending(engine, victim, row.slot, h, payload);
    result.records++;
  }
  engine.stats.gcBytesMoved += result.bytes;
  return result;
}
