// `lsa inspect --segment S`: one segment laid bare. Its columns (which disk holds which data
// column or the parity, at what file offset), and every record a scan of its data area finds,
// each decided live, write-pending or garbage the way the collector decides it (liveTracksOf,
// the write-pending directory), with its payload CRC checked.

import { crc32 } from 'node:zlib';
import { diskPath } from '../../array/disk-array';
import { InvalidArgumentError, LsaError } from '../../errors';
import type { ArrayView } from '../../lsa/array-view';
import { RECORD_HEADER_BYTES, isTrimLike, recordBytes, type RecordHeader } from '../../lsa/record-format';
import { liveTracksOf, scanRecords } from '../../lsa/relocate';
import { formatApprox, formatSize } from '../../util/size';
import { accessLines } from './array-text';
import { locateSlot } from './location';
import { decodeFlags, flagsText, type DecodedFlags } from './record-flags';

/** live: a volume's directory points at it; pending: stored, not yet applied (remote copy);
 * pinned: only a snapshot still needs it; garbage: nothing does. */
export type RecordStatus = 'live' | 'pending' | 'pinned' | 'garbage';

export interface SegmentColumn {
  disk: number;
  holds: 'data' | 'parity';
  /** Data column index (0 .. N-1), null for parity. */
  column: number | null;
  path: string;
  health: string;
  fileOffset: number;
  bytes: number;
}

export interface SegmentRecord {
  slot: number;
  column: number;
  offsetInColumn: number;
  disk: number;
  fileOffset: number;
  volumeId: number;
  volume: string | null;
  track: number;
  trackCount: number;
  seq: number;
  flags: DecodedFlags;
  /** Payload bytes as stored (after compression; 0 for TRIM/ZERO). */
  payloadBytes: number;
  recordBytes: number;
  status: RecordStatus;
  /** Tracks whose directory entry points at this record. */
  liveTracks: number;
  /** Payload CRC-32 matches the header; null when there is no payload. */
  crcOk: boolean | null;
}

export interface SegmentReport {
  segment: number;
  access: ArrayView['access'];
  state: string;
  stream: number;
  parityDisk: number;
  dataBytes: number;
  fillBytes: number;
  /** fillBytes / dataBytes. */
  fill: number;
  liveBytes: number;
  /** liveBytes / dataBytes. */
  utilization: number;
  trimRefs: number;
  seqLast: number;
  closedAtMs: number;
  inMemory: boolean;
  columns: SegmentColumn[];
  records: SegmentRecord[];
  summary: { records: number; live: number; pending: number; pinned: number; garbage: number; crcBad: number; scannedLiveBytes: number };
  /** Why the records list is empty or incomplete, if it is. */
  note: string | null;
}

export function parseSegmentArg(view: ArrayView, text: string): number {
  const last = view.layout.segments - 1;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(n) || n < 1 || n > last) {
    throw new InvalidArgumentError(`--segment must be a whole number from 1 to ${last} (segment 0 holds the superblocks); got "${text}"`, { segment: text });
  }
  return n;
}

export async function describeSegment(view: ArrayView, segment: number): Promise<SegmentReport> {
  const l = view.layout;
  const row = view.segmentRows[segment];
  const columns: SegmentColumn[] = [];
  for (let disk = 0; disk < l.disks; disk++) {
    const c = l.columnOnDisk(segment, disk);
    columns.push({
      disk, holds: c < 0 ? 'parity' : 'data', column: c < 0 ? null : c, path: diskPath(view.dir, disk),
      health: view.health[disk] ?? 'missing', fileOffset: l.segmentOffset(segment), bytes: l.columnBytes,
    });
  }
  const report: SegmentReport = {
    segment, access: view.access, state: row.state, stream: row.stream, parityDisk: l.parityDisk(segment),
    dataBytes: l.segmentDataBytes, fillBytes: row.fillBytes, fill: row.fillBytes / l.segmentDataBytes,
    liveBytes: row.liveBytes, utilization: row.liveBytes / l.segmentDataBytes, trimRefs: row.trimRefs,
    seqLast: row.seqLast, closedAtMs: row.closedAtMs, inMemory: view.isInMemory(segment),
    columns, records: [], summary: { records: 0, live: 0, pending: 0, pinned: 0, garbage: 0, crcBad: 0, scannedLiveBytes: 0 }, note: null,
  };
  if (row.state === 'free' || row.fillBytes === 0) {
    report.note = row.state === 'free' ? 'free: holds no records (any old bytes are stale)' : 'empty: no record appended yet';
    return report;
  }
  // Only [0, fill) is this segment's life: past it an open segment's disk bytes are left
  // over from an earlier life (a closed segment has zeros there), so they read as zeros.
  const data = Buffer.alloc(l.segmentDataBytes);
  try {
    (await view.readSegmentData(segment, 0, Math.min(row.fillBytes, l.segmentDataBytes))).copy(data);
  } catch (err) {
    if (!(err instanceof LsaError)) throw err;
    report.note = `cannot read the segment: ${err.message}`;
    return report;
  }
  for (const { slot, header: h } of scanRecords(view, data)) {
    const where = locateSlot(view, segment, slot);
    const tracks = liveTracksOf(view, segment, slot, h);
    const p = view.pending.at(segment, slot);
    const pending = p !== undefined && p.seq === h.seq && p.volumeId === h.volumeId && p.track === h.track;
    const status: RecordStatus = tracks.length > 0 ? 'live' : pending ? 'pending' : isPinned(view, segment, slot, h) ? 'pinned' : 'garbage';
    const bytes = recordBytes(h.payloadBytes);
    const crcOk = h.payloadBytes > 0 ? crc32(data.subarray(slot + RECORD_HEADER_BYTES, slot + RECORD_HEADER_BYTES + h.payloadBytes)) === h.payloadCrc : null;
    report.records.push({
      slot, column: where.column, offsetInColumn: where.offsetInColumn, disk: where.disk, fileOffset: where.fileOffset,
      volumeId: h.volumeId, volume: view.volumesById.get(h.volumeId)?.row.name ?? null,
      track: h.track, trackCount: h.trackCount, seq: h.seq, flags: decodeFlags(h.flags),
      payloadBytes: h.payloadBytes, recordBytes: bytes, status, liveTracks: tracks.length, crcOk,
    });
    report.summary[status]++;
    if (crcOk === false) report.summary.crcBad++;
    // data records count toward live bytes; trim records toward trimRefs (pending ones count as bytes)
    if (((status === 'live' || status === 'pinned') && h.payloadBytes > 0) || status === 'pending') report.summary.scannedLiveBytes += bytes;
  }
  report.summary.records = report.records.length;
  return report;
}

function isPinned(view: ArrayView, segment: number, slot: number, h: RecordHeader): boolean {
  const count = isTrimLike(h.flags) ? h.trackCount : 1;
  for (let t = h.track; t < h.track + count; t++) if (view.isPinned(h.volumeId, t, segment, slot)) return true;
  return false;
}

export function renderSegmentText(r: SegmentReport): string {
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  const closed = r.closedAtMs > 0 ? `, closed ${new Date(r.closedAtMs).toISOString()}` : '';
  const lines = [
    `segment ${r.segment}: ${r.state}${r.inMemory ? ' (in memory)' : ''}, stream ${r.stream}, parity on disk ${r.parityDisk}${closed}`,
    ...accessLines(r),
    `  fill       ${formatApprox(r.fillBytes)} of ${formatSize(r.dataBytes)} (${pct(r.fill)})`,
    `  live       ${formatApprox(r.liveBytes)} (${pct(r.utilization)}), ${r.trimRefs} trimmed track(s) point here, last sequence ${r.seqLast}`,
    '',
    `columns (byte ${r.columns[0]?.fileOffset ?? 0} of every disk file, ${formatSize(r.columns[0]?.bytes ?? 0)} each):`,
    ...r.columns.map((c) => `  disk ${String(c.disk).padStart(2)}  ${(c.holds === 'parity' ? 'PARITY' : `data column ${c.column}`).padEnd(14)}  ${c.path}  offset ${c.fileOffset}${c.health === 'ok' ? '' : `  (${c.health})`}`),
    '',
  ];
  if (r.note) lines.push(`records: ${r.note}`);
  else {
    const s = r.summary;
    lines.push(`records: ${s.records} (${s.live} live, ${s.pending} pending, ${s.pinned} pinned by snapshots, ${s.garbage} garbage${s.crcBad ? `, ${s.crcBad} with a BAD CRC` : ''}), live bytes by scan ${formatApprox(s.scannedLiveBytes)}`);
    const header = ['slot', 'col', 'offset', 'volume', 'track', 'count', 'seq', 'flags', 'stored', 'state', 'crc'];
    const rows = r.records.map((x) => [
      String(x.slot), String(x.column), String(x.offsetInColumn), x.volume ?? `#${x.volumeId}`, String(x.track), String(x.trackCount),
      String(x.seq), flagsText(x.flags), String(x.payloadBytes), x.status, x.crcOk === null ? '-' : x.crcOk ? 'ok' : 'BAD',
    ]);
    lines.push(...table([header, ...rows]).map((t) => `  ${t}`));
  }
  return lines.join('\n') + '\n';
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd());
}
