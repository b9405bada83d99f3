// Snapshot files: `<dir>/snapshots/<volume>/<name>.snap`, a copy of a volume's directory at a
// barrier sequence, self-describing and checksummed. Written atomically (temporary file, fsync,
// rename, fsync of the folder).
//
//   offset size  field
//   0      8     magic "LSASNAP1"
//   8      4     format version (1), u32 LE
//   12     4     header length n (JSON), u32 LE
//   16     4     CRC-32 of the header JSON
//   20     4     CRC-32 of the entries
//   24     8     track count (entries), u64 LE
//   32     n     header JSON: {name, volume, volumeId, capacityBytes, trackBytes, geometry,
//                barrierSeq, createdAtMs, allocatedEntries}
//   ...          zeros to a multiple of 8, then track count x 32-byte directory entries
//                (docs/FORMAT.md, "Directory entry")
//
// Decoding checks the CRCs, then every header field and entry (snapshot-check.ts): a file
// must agree with its name, its folder and the array's geometry, and point only inside it.

import { crc32 } from 'node:zlib';
import { CorruptionError } from '../errors';
import type { Geometry } from '../array/geometry';
import { ENTRY_BYTES, ENTRY_WORDS } from '../lsa/directory';
import { checkSnapshotEntries, checkSnapshotHeader, type SnapshotExpectation } from './snapshot-check';

export const SNAPSHOT_MAGIC = Buffer.from('LSASNAP1', 'ascii');
export const SNAPSHOT_VERSION = 1;

export interface SnapshotHeader {
  name: string;
  volume: string;
  volumeId: number;
  capacityBytes: number;
  trackBytes: number;
  geometry: Geometry;
  barrierSeq: number;
  createdAtMs: number;
  allocatedEntries: number;
}

export function countAllocated(words: Uint32Array, tracks: number): number {
  let n = 0;
  for (let t = 0; t < tracks; t++) if (words[t * ENTRY_WORDS] !== 0) n++;
  return n;
}

export function encodeSnapshot(h: SnapshotHeader, words: Uint32Array, tracks: number): Buffer[] {
  const json = Buffer.from(JSON.stringify(h), 'utf8');
  const entries = Buffer.from(words.buffer, words.byteOffset, tracks * ENTRY_BYTES);
  const head = Buffer.alloc(32);
  SNAPSHOT_MAGIC.copy(head, 0);
  head.writeUInt32LE(SNAPSHOT_VERSION, 8);
  head.writeUInt32LE(json.length, 12);
  head.writeUInt32LE(crc32(json), 16);
  head.writeUInt32LE(crc32(entries), 20);
  head.writeBigUInt64LE(BigInt(tracks), 24);
  const pad = Buffer.alloc((8 - ((32 + json.length) % 8)) % 8);
  return [head, json, pad, Buffer.from(entries)];
}

export function decodeSnapshot(buf: Buffer, where: string, expect: SnapshotExpectation): { header: SnapshotHeader; entries: Buffer; tracks: number } {
  const bad = (why: string): never => {
    throw new CorruptionError(`snapshot ${where} is damaged: ${why}`, { path: where });
  };
  if (buf.length < 32 || !buf.subarray(0, 8).equals(SNAPSHOT_MAGIC)) bad('no snapshot magic');
  const version = buf.readUInt32LE(8);
  if (version !== SNAPSHOT_VERSION) bad(`format version ${version} is not supported`);
  const n = buf.readUInt32LE(12);
  if (32 + n > buf.length) bad('header length past the end');
  const json = buf.subarray(32, 32 + n);
  if (crc32(json) !== buf.readUInt32LE(16)) bad('header CRC mismatch');
  const tracksWide = buf.readBigUInt64LE(24);
  const start = 32 + n + ((8 - ((32 + n) % 8)) % 8);
  const entries = buf.subarray(start);
  if (tracksWide * BigInt(ENTRY_BYTES) !== BigInt(entries.length)) bad(`${entries.length} bytes of entries for ${tracksWide} tracks`);
  const tracks = Number(tracksWide);
  if (crc32(entries) !== buf.readUInt32LE(20)) bad('entries CRC mismatch');
  let raw: unknown;
  try {
    raw = JSON.parse(json.toString('utf8'));
  } catch {
    return bad('header is not JSON');
  }
  const header = checkSnapshotHeader(raw, tracks, expect, bad);
  checkSnapshotEntries(entries, tracks, header, bad);
  return { header, entries, tracks };
}
