// Reading many tracks at once. Tracks written one after the other lie one after the other in a
// segment's column, so the records of a run of tracks are read with one positional read per
// stretch of a column instead of one per track (a 1 MiB host read of sequentially written
// 4 KiB tracks: 1-2 reads, not 256). Every record is still checked on its own (header, sequence,
// CRC) exactly as readTrack does; a record that fails, or whose read failed, is read again
// through readTrack, which looks the entry up again (moved meanwhile) and rebuilds from parity.

import { LsaError } from '../errors';
import type { Entry, VolumeDirectory } from './directory';
import { isTrimLike } from './record-format';
import { payloadIfValid, readTrack, type RecordSource } from './track-reader';

/** Dead bytes between two records that a stretch reads over rather than split there. */
export const STRETCH_GAP_MAX = 32 * 1024;
/** Reads of stretches in flight at once for one call. */
const STRETCHES_IN_FLIGHT = 8;

/** Records one after the other (gaps of at most STRETCH_GAP_MAX) in one column of a segment on
 * disk, read with one read. */
interface Stretch {
  segment: number;
  column: number;
  /** Byte offset in the column of the first record, and where the last one ends. */
  start: number;
  end: number;
  /** The tracks (index into the call's run) and the entries they were read for. */
  tracks: number[];
  entries: Entry[];
}

/** Reads tracks `first` .. `first + count - 1` of a volume, whole, into `out` at `at`, with the
 * same result as readTrack for each of them. `from` reads through another directory. */
export async function readTracks(reader: RecordSource, volumeId: number, first: number, count: number, out: Buffer, at: number, from?: VolumeDirectory): Promise<void> {
  const tb = reader.layout.trackBytes;
  const cb = reader.layout.columnBytes;
  const dir = from ?? reader.volume(volumeId).directory;
  const stretches: Stretch[] = [];
  const singles: number[] = [];
  let open: Stretch | null = null;
  for (let i = 0; i < count; i++) {
    const e = dir.get(first + i);
    if (e.segment === 0 || isTrimLike(e.flags)) {
      out.fill(0, at + i * tb, at + (i + 1) * tb);
      continue;
    }
    if (reader.isInMemory(e.segment)) {
      singles.push(i); // a copy from memory: nothing to gain
      continue;
    }
    const column = Math.floor(e.slot / cb);
    const offset = e.slot - column * cb;
    if (open && open.segment === e.segment && open.column === column && offset >= open.end && offset - open.end <= STRETCH_GAP_MAX) {
      open.end = offset + e.recordBytes;
      open.tracks.push(i);
      open.entries.push(e);
    } else {
      open = { segment: e.segment, column, start: offset, end: offset + e.recordBytes, tracks: [i], entries: [e] };
      stretches.push(open);
    }
  }
  const again: number[] = [...singles];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < stretches.length) {
      const s = stretches[next++];
      again.push(...(await readStretch(reader, volumeId, first, s, out, at)));
    }
  };
  await Promise.all(Array.from({ length: Math.min(STRETCHES_IN_FLIGHT, stretches.length) }, worker));
  for (const i of again) await readTrack(reader, volumeId, first + i, out, at + i * tb, from);
}

/** Reads one stretch and places every record that passes its checks. Returns the tracks left
 * for readTrack: those whose record failed its checks (moved meanwhile, or damaged), or all of
 * them when the read itself failed. */
async function readStretch(reader: RecordSource, volumeId: number, first: number, s: Stretch, out: Buffer, at: number): Promise<number[]> {
  const tb = reader.layout.trackBytes;
  const buf = Buffer.allocUnsafe(s.end - s.start);
  try {
    await reader.array.readColumn(s.segment, s.column, s.start, buf);
  } catch (err) {
    if (err instanceof LsaError && (err.code === 'LSA_IO' || err.code === 'LSA_DATA_LOST')) return s.tracks;
    throw err;
  }
  const cb = reader.layout.columnBytes;
  const failed: number[] = [];
  for (let k = 0; k < s.tracks.length; k++) {
    const e = s.entries[k];
    const i = s.tracks[k];
    const from = e.slot - s.column * cb - s.start;
    const payload = payloadIfValid(reader, buf.subarray(from, from + e.recordBytes), volumeId, first + i, e);
    if (payload) payload.copy(out, at + i * tb);
    else failed.push(i);
  }
  return failed;
}
