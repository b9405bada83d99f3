// A snapshot file's content, checked before anything uses it. Its CRCs only say the bytes are
// the ones written; a file crafted (or written by a bug) with good CRCs could still name
// another snapshot, claim a geometry the array does not have, or point tracks at segments and
// slots outside the disks. Each of those is a CorruptionError naming the file and the field,
// never a TypeError later (the header fields are the JSON of snapshot-file.ts; the entries
// are directory entries, docs/FORMAT.md "Directory entry").

import { validateGeometry, type Geometry, type Layout } from '../array/geometry';
import { ENTRY_BYTES } from '../lsa/directory';
import { COMPRESSION_LZ4, RECORD_COMPRESSION_MASK, RECORD_COMPRESSION_SHIFT, RECORD_FLAG_TRIM, RECORD_FLAG_ZERO, RECORD_HEADER_BYTES, isTrimLike } from '../lsa/record-format';
import { VOLUME_NAME } from '../lsa/volumes';
import type { SnapshotHeader } from './snapshot-file';

export const SNAPSHOT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** What the file must agree with: its place in the folder, and the array when it is known. */
export interface SnapshotExpectation {
  /** The folder it is in: snapshots/<volume>/. */
  volume: string;
  /** Its file name without .snap. */
  name: string;
  layout?: Layout;
}

type Bad = (why: string) => never;

const KNOWN_FLAGS = RECORD_FLAG_TRIM | RECORD_FLAG_ZERO | RECORD_COMPRESSION_MASK;
const U32_MAX = 0xffffffff;
/** The high word of a 64-bit sequence that still gives a safe integer. */
const SEQ_HIGH_MAX = 2 ** 21 - 1;

const isInt = (v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;

function checkGeometry(g: unknown, layout: Layout | undefined, bad: Bad): Geometry {
  if (typeof g !== 'object' || g === null) return bad('header field "geometry" is not an object');
  const geo = g as Record<string, unknown>;
  for (const k of ['disks', 'columnBytes', 'diskBytes', 'trackBytes']) {
    if (!isInt(geo[k], 1)) bad(`header field "geometry.${k}" is not a positive whole number`);
  }
  const out = { disks: geo.disks, columnBytes: geo.columnBytes, diskBytes: geo.diskBytes, trackBytes: geo.trackBytes } as Geometry;
  try {
    validateGeometry(out);
  } catch (err) {
    bad(`header geometry is impossible: ${(err as Error).message}`);
  }
  if (layout) {
    const a = layout.geometry;
    if (out.disks !== a.disks || out.columnBytes !== a.columnBytes || out.diskBytes !== a.diskBytes || out.trackBytes !== a.trackBytes) {
      bad(`its geometry (${JSON.stringify(out)}) is not the array's (${JSON.stringify(a)})`);
    }
  }
  return out;
}

/** The header, field by field; `tracks` is the entry count of the file. */
export function checkSnapshotHeader(raw: unknown, tracks: number, expect: SnapshotExpectation, bad: Bad): SnapshotHeader {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('header is not a JSON object');
  const h = raw as Record<string, unknown>;
  if (typeof h.name !== 'string' || !SNAPSHOT_NAME.test(h.name)) bad('header field "name" is not a snapshot name');
  if (h.name !== expect.name) bad(`its header names snapshot "${String(h.name)}", its file name "${expect.name}"`);
  if (typeof h.volume !== 'string' || !VOLUME_NAME.test(h.volume)) bad('header field "volume" is not a volume name');
  if (h.volume !== expect.volume) bad(`its header names volume "${String(h.volume)}", its folder "${expect.volume}"`);
  if (!isInt(h.volumeId, 1, U32_MAX)) bad('header field "volumeId" is not a volume id');
  if (!isInt(h.capacityBytes, 1)) bad('header field "capacityBytes" is not a positive whole number');
  const geometry = checkGeometry(h.geometry, expect.layout, bad);
  if (h.trackBytes !== geometry.trackBytes) bad(`header field "trackBytes" (${String(h.trackBytes)}) is not its geometry's (${geometry.trackBytes})`);
  const want = Math.ceil((h.capacityBytes as number) / geometry.trackBytes);
  if (tracks !== want) bad(`${tracks} entries for ${String(h.capacityBytes)} bytes of ${geometry.trackBytes}-byte tracks (${want} expected)`);
  if (!isInt(h.barrierSeq, 0)) bad('header field "barrierSeq" is not a sequence number');
  if (!isInt(h.createdAtMs, 0)) bad('header field "createdAtMs" is not a time');
  if (!isInt(h.allocatedEntries, 0, tracks)) bad(`header field "allocatedEntries" is not a count from 0 to ${tracks}`);
  return {
    name: h.name as string, volume: h.volume as string, volumeId: h.volumeId as number, capacityBytes: h.capacityBytes as number,
    trackBytes: geometry.trackBytes, geometry, barrierSeq: h.barrierSeq as number, createdAtMs: h.createdAtMs as number,
    allocatedEntries: h.allocatedEntries as number,
  };
}

/** Every entry points inside the geometry, at a record that fits its column. */
export function checkSnapshotEntries(entries: Buffer, tracks: number, header: SnapshotHeader, bad: Bad): void {
  const g = header.geometry;
  const segments = g.diskBytes / g.columnBytes;
  const segmentDataBytes = (g.disks - 1) * g.columnBytes;
  let allocated = 0;
  for (let t = 0; t < tracks; t++) {
    const at = t * ENTRY_BYTES;
    const segment = entries.readUInt32LE(at);
    if (segment === 0) continue; // never written: reads as zeros, the other fields unused
    allocated++;
    const slot = entries.readUInt32LE(at + 4);
    const recordBytes = entries.readUInt32LE(at + 8);
    const flagsWord = entries.readUInt32LE(at + 16);
    const flags = flagsWord & 0xffff;
    const payloadBytes = entries.readUInt32LE(at + 20);
    const seqHigh = entries.readUInt32LE(at + 28);
    const where = `track ${t}`;
    if (segment >= segments) bad(`${where} points at segment ${segment}; the disks hold segments 1 to ${segments - 1}`);
    if (recordBytes < RECORD_HEADER_BYTES || recordBytes % 8 !== 0) bad(`${where}: a record length of ${recordBytes} bytes is impossible`);
    if (slot % 8 !== 0 || slot + recordBytes > segmentDataBytes) bad(`${where}: slot ${slot} + ${recordBytes} bytes is outside a segment's ${segmentDataBytes} data bytes`);
    if (Math.floor(slot / g.columnBytes) !== Math.floor((slot + recordBytes - 1) / g.columnBytes)) bad(`${where}: the record at slot ${slot} would span two columns`);
    if ((flagsWord >>> 16) !== 0 || (flags & ~KNOWN_FLAGS) !== 0 || (flags & RECORD_COMPRESSION_MASK) >> RECORD_COMPRESSION_SHIFT > COMPRESSION_LZ4) bad(`${where}: unknown flags 0x${flagsWord.toString(16)}`);
    if (payloadBytes > recordBytes - RECORD_HEADER_BYTES || (isTrimLike(flags) && payloadBytes !== 0)) bad(`${where}: a payload of ${payloadBytes} bytes does not fit its ${recordBytes}-byte record`);
    if (seqHigh > SEQ_HIGH_MAX) bad(`${where}: its write sequence is past 2^53`);
  }
  if (allocated !== header.allocatedEntries) bad(`the header counts ${header.allocatedEntries} written tracks, the entries ${allocated}`);
}
