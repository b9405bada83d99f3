// `lsa inspect --volume V --track T` (or `--offset BYTES`): where a track's newest data
// lives. The directory entry, decoded; the segment, column, disk file and byte offset of its
// record, with the exact hexdump command that shows it; the record header as read back and
// whether it is the record the entry expects. A trimmed track names its TRIM/ZERO record.

import { crc32 } from 'node:zlib';
import { InvalidArgumentError, LsaError, NotFoundError } from '../../errors';
import type { ArrayView } from '../../lsa/array-view';
import type { Entry } from '../../lsa/directory';
import type { VolumeState } from '../../lsa/volume-state';
import { RECORD_FLAG_ZERO, RECORD_HEADER_BYTES, isTrimLike, tryDecodeHeader } from '../../lsa/record-format';
import { formatSize, parseSize } from '../../util/size';
import { accessLines } from './array-text';
import { hexdumpCommand, locateSlot, type FileLocation } from './location';
import { decodeFlags, flagsText, type DecodedFlags } from './record-flags';

export type TrackState = 'never-written' | 'data' | 'trimmed' | 'zeroed';

export interface TrackReport {
  volume: string;
  volumeId: number;
  track: number;
  trackBytes: number;
  /** First byte of the track in the volume. */
  volumeOffset: number;
  /** The byte asked for with --offset, and where it falls in the track (else null). */
  byteOffset: number | null;
  byteInTrack: number | null;
  access: ArrayView['access'];
  state: TrackState;
  /** The directory entry (null when never written). */
  entry: (Omit<Entry, 'flags'> & { flags: DecodedFlags }) | null;
  segmentState: string | null;
  location: (FileLocation & { recordFileOffset: number; payloadFileOffset: number; byteFileOffset: number | null }) | null;
  /** The record header read back from the array (the TRIM/ZERO record for a trimmed track). */
  record: {
    track: number; trackCount: number; seq: number; volumeId: number; flags: DecodedFlags;
    payloadBytes: number; payloadCrc: number;
    /** Volume, track range, sequence and flags are the ones the entry expects. */
    matchesEntry: boolean;
    crcOk: boolean | null;
  } | null;
  /** Why the record could not be read or does not match, if so. */
  problem: string | null;
  /** Shows the bytes in the disk file: the payload (from the byte asked for), or the header
   * of a TRIM/ZERO record. */
  hexdump: string | null;
  /** Write-pending updates of this track (remote copy secondary), not applied yet. */
  pending: { seq: number; segment: number; slot: number; trim: boolean }[];
}

export interface TrackQuery {
  volume: string;
  track?: string;
  offset?: string;
}

export function resolveVolume(view: ArrayView, name: string): VolumeState {
  const v = view.volumesByName.get(name);
  if (v) return v;
  const names = [...view.volumesByName.keys()];
  throw new NotFoundError(
    names.length > 0
      ? `no volume "${name}" in ${view.dir}; its volumes are: ${names.join(', ')}`
      : `no volume "${name}" in ${view.dir}: the array has no volumes (create one with: lsa volume create --dir ${view.dir})`,
    { volume: name },
  );
}

/** The track (and byte) a query names, checked against the volume. */
export function resolveTrack(view: ArrayView, v: VolumeState, q: TrackQuery): { track: number; byteOffset: number | null } {
  const tb = view.layout.trackBytes;
  if (q.track !== undefined) {
    const t = Number(q.track);
    if (!/^\d+$/.test(q.track.trim()) || !Number.isSafeInteger(t) || t >= v.tracks) {
      throw new InvalidArgumentError(`--track must be a whole number from 0 to ${v.tracks - 1} (volume ${v.row.name} has ${v.tracks} tracks of ${formatSize(tb)}); got "${q.track}"`, { track: q.track });
    }
    return { track: t, byteOffset: null };
  }
  const offset = parseSize(q.offset ?? '', '--offset');
  if (offset >= v.row.capacityBytes) {
    throw new InvalidArgumentError(`--offset ${offset} is past the end of volume ${v.row.name} (${v.row.capacityBytes} bytes); use 0 to ${v.row.capacityBytes - 1}`, { offset });
  }
  return { track: Math.floor(offset / tb), byteOffset: offset };
}

export async function locateTrack(view: ArrayView, v: VolumeState, track: number, byteOffset: number | null): Promise<TrackReport> {
  const l = view.layout;
  const tb = l.trackBytes;
  const e = v.directory.get(track);
  const byteInTrack = byteOffset === null ? null : byteOffset - track * tb;
  const report: TrackReport = {
    volume: v.row.name, volumeId: v.row.id, track, trackBytes: tb, volumeOffset: track * tb, byteOffset, byteInTrack,
    access: view.access, state: 'never-written', entry: null, segmentState: null, location: null, record: null, problem: null, hexdump: null,
    pending: view.pending.rows().filter((p) => p.volumeId === v.row.id && p.track <= track && track < p.track + (isTrimLike(p.flags) ? p.trackCount : 1))
      .map((p) => ({ seq: p.seq, segment: p.segment, slot: p.slot, trim: isTrimLike(p.flags) })),
  };
  if (e.segment === 0) return report;
  report.state = !isTrimLike(e.flags) ? 'data' : (e.flags & RECORD_FLAG_ZERO) !== 0 ? 'zeroed' : 'trimmed';
  report.entry = { ...e, flags: decodeFlags(e.flags) };
  if (e.segment >= l.segments || e.slot + e.recordBytes > l.segmentDataBytes || e.recordBytes < RECORD_HEADER_BYTES) {
    report.problem = `the directory entry is out of the array (segment ${e.segment} slot ${e.slot} length ${e.recordBytes}); lsa check --dir ${view.dir} reports it`;
    return report;
  }
  report.segmentState = view.segmentRows[e.segment].state;
  const where = locateSlot(view, e.segment, e.slot);
  const payloadFileOffset = where.fileOffset + RECORD_HEADER_BYTES;
  const byteFileOffset = report.state === 'data' && byteInTrack !== null && e.payloadBytes === tb ? payloadFileOffset + byteInTrack : null;
  report.location = { ...where, recordFileOffset: where.fileOffset, payloadFileOffset, byteFileOffset };
  report.hexdump = report.state !== 'data'
    ? hexdumpCommand(where.diskPath, where.fileOffset, RECORD_HEADER_BYTES)
    : byteFileOffset !== null
      ? hexdumpCommand(where.diskPath, byteFileOffset, tb - byteInTrack!)
      : hexdumpCommand(where.diskPath, payloadFileOffset, e.payloadBytes);
  let rec: Buffer;
  try {
    rec = await view.readSegmentData(e.segment, e.slot, e.slot + e.recordBytes);
  } catch (err) {
    if (!(err instanceof LsaError)) throw err;
    report.problem = `cannot read the record: ${err.message}`;
    return report;
  }
  const h = tryDecodeHeader(rec, 0);
  if (!h) {
    report.problem = `no valid record header at segment ${e.segment} slot ${e.slot} (bad magic or header CRC); lsa check --dir ${view.dir} --repair rebuilds it from parity`;
    return report;
  }
  const covers = h.track <= track && track < h.track + (isTrimLike(h.flags) ? h.trackCount : 1);
  const matchesEntry = h.volumeId === v.row.id && covers && h.seq === e.seq && h.flags === e.flags && h.payloadBytes === e.payloadBytes;
  const payload = rec.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + Math.min(h.payloadBytes, rec.length - RECORD_HEADER_BYTES));
  const crcOk = h.payloadBytes > 0 ? payload.length === h.payloadBytes && crc32(payload) === h.payloadCrc : null;
  report.record = {
    track: h.track, trackCount: h.trackCount, seq: h.seq, volumeId: h.volumeId, flags: decodeFlags(h.flags),
    payloadBytes: h.payloadBytes, payloadCrc: h.payloadCrc, matchesEntry, crcOk,
  };
  if (!matchesEntry) {
    report.problem = view.access.mode === 'read-only'
      ? 'the record there is not the one the directory names: the running process has moved or rewritten it since its last commit; look again'
      : `the record there is not the one the directory names; lsa check --dir ${view.dir} reports it`;
  } else if (crcOk === false) {
    report.problem = `the payload fails its CRC; reads rebuild it from parity (lsa check --dir ${view.dir} --repair rewrites it)`;
  }
  return report;
}

export function renderTrackText(r: TrackReport): string {
  const tb = r.trackBytes;
  const asked = r.byteOffset !== null ? `byte ${r.byteOffset} is byte ${r.byteInTrack} of ` : '';
  const lines = [`volume ${r.volume} ${asked}track ${r.track} (bytes ${r.volumeOffset}..${r.volumeOffset + tb - 1}): ${r.state.replace('-', ' ')}`];
  lines.push(...accessLines(r));
  if (r.state === 'never-written') lines.push('  reads as zeros; no record holds it');
  const e = r.entry;
  if (e) {
    lines.push(`  directory  segment ${e.segment} slot ${e.slot}, record ${e.recordBytes} bytes, stored ${e.payloadBytes}, flags ${flagsText(e.flags)}, seq ${e.seq}, crc 0x${e.payloadCrc.toString(16).padStart(8, '0')}`);
  }
  const loc = r.location;
  if (loc) {
    lines.push(`  segment    ${e!.segment} (${r.segmentState}), data column ${loc.column} offset ${loc.offsetInColumn}`);
    lines.push(`  disk       ${loc.disk} ${loc.diskPath}${loc.diskHealth === 'ok' ? '' : ` (${loc.diskHealth}: reads rebuild these bytes from parity; the file does not hold them)`}`);
    lines.push(`  file       record at byte ${loc.recordFileOffset}, payload at ${loc.payloadFileOffset}${loc.byteFileOffset !== null ? `, byte ${r.byteOffset} at ${loc.byteFileOffset}` : ''}`);
  }
  const h = r.record;
  if (h) {
    const range = h.trackCount > 1 || h.flags.trim || h.flags.zero ? `tracks ${h.track}..${h.track + h.trackCount - 1}` : `track ${h.track}`;
    const what = r.state === 'data' ? 'record' : `${h.flags.zero ? 'ZERO' : 'TRIM'} record`;
    lines.push(`  ${what.padEnd(10)} volume ${h.volumeId}, ${range}, seq ${h.seq}, flags ${flagsText(h.flags)}, stored ${h.payloadBytes}${h.crcOk === null ? '' : `, payload crc ${h.crcOk ? 'ok' : 'BAD'}`}${h.matchesEntry ? '' : ', NOT the record the directory expects'}`);
  }
  if (r.problem) lines.push(`  problem    ${r.problem}`);
  if (r.hexdump) lines.push(`  ${r.hexdump}`);
  for (const p of r.pending) lines.push(`  pending    ${p.trim ? 'trim' : 'write'} seq ${p.seq} at segment ${p.segment} slot ${p.slot} (not applied yet)`);
  return lines.join('\n') + '\n';
}
