// Reading one track: its record found through the directory, checked (header, sequence, CRC
// of the stored bytes), decompressed (track-codec.ts), and on failure rebuilt from parity and
// rewritten elsewhere. Reads through the read path (read-path.ts), whose `readTrack` and
// `rebuildRecord` delegate here.

import { crc32 } from 'node:zlib';
import { CorruptionError, DataLostError, LsaError, assert } from '../errors';
import type { Entry, VolumeDirectory } from './directory';
import type { DiskArray } from '../array/disk-array';
import type { Layout } from '../array/geometry';
import type { Logger } from '../util/log';
import type { RecordHeader } from './record-format';
import type { AppendedRecord } from './segment-log';
import type { SegmentTable } from './segment-table';
import type { VolumeState } from './volume-state';
import { RECORD_HEADER_BYTES, isTrimLike, tryDecodeHeader } from './record-format';
import { codecOfFlags, expandTrack } from './track-codec';

/** Where a record rebuilt from parity is rewritten: the collector's streams (engine.ts). */
export interface RecordMover {
  gcRecordsAvailable(bytes: number): number;
  appendMoved(h: RecordHeader, payload: Buffer | null): AppendedRecord;
}

/** What reading tracks needs (read-path.ts provides it). */
export interface RecordSource {
  readonly layout: Layout;
  readonly array: Pick<DiskArray, 'readColumn' | 'reconstructColumn' | 'degraded'>;
  readonly segments: Pick<SegmentTable, 'addLive'>;
  readonly stats: { recordsRepaired: number };
  readonly mover: RecordMover;
  readonly log: Logger;
  volume(id: number): VolumeState;
  isInMemory(segment: number): boolean;
  readRecordBytes(e: Entry): Promise<Buffer>;
}

/** Retries of a read whose entry moved under it (rewritten or collected meanwhile). */
const MOVED_RETRIES_MAX = 100;

/** Reads one whole track into `out` at `at`. Zeros for tracks never written or trimmed.
 * A record that fails its checks is rebuilt from parity, returned, and rewritten elsewhere
 * (not when reading through another directory `from`, a snapshot's); if that is impossible the
 * read fails with an error naming the volume and byte range. */
export async function readTrack(reader: RecordSource, volumeId: number, track: number, out: Buffer, at: number, from?: VolumeDirectory): Promise<void> {
  const tb = reader.layout.trackBytes;
  const v = reader.volume(volumeId);
  assert(track >= 0 && track < v.tracks, 'readTrack inside the volume');
  const dir = from ?? v.directory;
  for (let attempt = 0; ; attempt++) {
    const e = dir.get(track);
    if (e.segment === 0 || isTrimLike(e.flags)) {
      out.fill(0, at, at + tb);
      return;
    }
    const where = { volume: v.row.name, track, segment: e.segment, slot: e.slot, offset: track * tb, length: tb };
    const range = `volume ${v.row.name} bytes ${track * tb}..${(track + 1) * tb - 1} (track ${track})`;
    let rec: Buffer | null = null;
    let cause: unknown = null;
    try {
      rec = await reader.readRecordBytes(e);
    } catch (err) {
      if (!(err instanceof LsaError) || (err.code !== 'LSA_IO' && err.code !== 'LSA_DATA_LOST')) throw err;
      cause = err;
    }
    const moved = dir.segmentOf(track) !== e.segment || dir.seqOf(track) !== e.seq;
    const payload = rec ? payloadIfValid(reader, rec, volumeId, track, e) : null;
    if (payload) {
      payload.copy(out, at);
      return;
    }
    if (moved && attempt < MOVED_RETRIES_MAX) continue; // rewritten or moved while we read: look again
    const repaired = await rebuildRecord(reader, e);
    const fixed = repaired ? payloadIfValid(reader, repaired, volumeId, track, e) : null;
    if (fixed && repaired) {
      if (!from) rewriteRepaired(reader, v, track, e, repaired, range);
      fixed.copy(out, at);
      return;
    }
    if (cause instanceof LsaError && cause.code === 'LSA_IO') throw cause; // the disk failed, and parity could not stand in
    if (cause instanceof DataLostError || (!reader.isInMemory(e.segment) && reader.array.degraded)) {
      throw new DataLostError(`${range} is lost: segment ${e.segment} has more damaged columns than parity can rebuild`, where, cause ?? undefined);
    }
    throw new CorruptionError(`${range}: the record at segment ${e.segment} slot ${e.slot} is damaged and parity cannot rebuild it`, where, cause ?? undefined);
  }
}

/** The track a record holds (decompressed) if it is the one the entry expects and its CRC
 * holds; a record that passes those checks but does not expand to one track throws
 * CorruptionError (parity would only give the same bytes back). */
export function payloadIfValid(reader: RecordSource, rec: Buffer, volumeId: number, track: number, e: Entry): Buffer | null {
  const h = tryDecodeHeader(rec, 0);
  if (!h || h.volumeId !== volumeId || h.track !== track || h.seq !== e.seq || h.payloadBytes !== e.payloadBytes) return null;
  if (codecOfFlags(h.flags) !== codecOfFlags(e.flags)) return null;
  const payload = rec.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + h.payloadBytes);
  if (crc32(payload) !== h.payloadCrc || h.payloadCrc !== e.payloadCrc) return null;
  return expandTrack(codecOfFlags(h.flags), payload, reader.layout.trackBytes, { volumeId, track, segment: e.segment, slot: e.slot });
}

/** The record's bytes rebuilt from the other columns and parity, or null if impossible. */
export async function rebuildRecord(reader: RecordSource, e: Entry): Promise<Buffer | null> {
  if (reader.isInMemory(e.segment)) return null; // in memory: there is nothing to rebuild from
  const cb = reader.layout.columnBytes;
  const column = Math.floor(e.slot / cb);
  const buf = Buffer.alloc(e.recordBytes);
  try {
    await reader.array.reconstructColumn(e.segment, column, e.slot - column * cb, buf);
  } catch (err) {
    if (err instanceof LsaError && (err.code === 'LSA_DATA_LOST' || err.code === 'LSA_IO')) return null;
    throw err;
  }
  return buf;
}

/** Writes a record rebuilt from parity to a new place (as it is: compressed records stay
 * compressed) and points the directory at it. */
function rewriteRepaired(reader: RecordSource, v: VolumeState, track: number, e: Entry, rec: Buffer, range: string): void {
  const dir = v.directory;
  if (dir.segmentOf(track) !== e.segment || dir.slotOf(track) !== e.slot || dir.seqOf(track) !== e.seq) return;
  const h = tryDecodeHeader(rec, 0)!;
  const payload = rec.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + h.payloadBytes);
  if (reader.mover.gcRecordsAvailable(e.recordBytes) < 1) return; // no room now: the next read repairs it again
  const moved = reader.mover.appendMoved(h, payload);
  dir.relocate(track, moved.segment, moved.slot);
  reader.segments.addLive(e.segment, -moved.bytes);
  reader.segments.addLive(moved.segment, moved.bytes);
  reader.stats.recordsRepaired++;
  reader.log.warn('record rebuilt from parity and rewritten', { range, from: `segment ${e.segment} slot ${e.slot}`, to: `segment ${moved.segment} slot ${moved.slot}` });
}
