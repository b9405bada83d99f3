// Superblocks: every disk carries two copies in segment 0, at byte 0 and at columnBytes / 2.
// Updates alternate between the two slots with a growing generation, so a torn update leaves
// the other copy intact; the valid copy with the highest generation wins (as bbolt's meta
// pages). The body is JSON: array id, this disk's index, geometry, and an opaque `label` that
// the LSA layer uses for its volume table, so an array can be rebuilt from its disks alone.
//
//   offset size  field
//   0      8     magic "LSASUPER"
//   8      4     format version (1), u32 LE
//   12     4     body length in bytes, u32 LE
//   16     8     generation, u64 LE
//   24     4     CRC-32 of the body
//   28     4     CRC-32 of bytes 0..27
//   32     n     body: UTF-8 JSON {arrayId, diskIndex, geometry, createdAtMs, label}

import { crc32 } from 'node:zlib';
import { CorruptionError } from '../errors';
import type { Geometry } from './geometry';

export const SUPERBLOCK_MAGIC = Buffer.from('LSASUPER', 'ascii');
export const SUPERBLOCK_VERSION = 1;
export const SUPERBLOCK_HEADER_BYTES = 32;

export interface SuperblockBody {
  arrayId: string;
  diskIndex: number;
  geometry: Geometry;
  createdAtMs: number;
  label: unknown;
}

export interface Superblock {
  generation: number;
  body: SuperblockBody;
}

export function superblockSlotBytes(columnBytes: number): number {
  return columnBytes / 2;
}

export function encodeSuperblock(sb: Superblock, slotBytes: number): Buffer {
  const body = Buffer.from(JSON.stringify(sb.body), 'utf8');
  if (SUPERBLOCK_HEADER_BYTES + body.length > slotBytes) {
    throw new CorruptionError(`superblock body of ${body.length} bytes does not fit its ${slotBytes}-byte slot (too many volumes?)`);
  }
  const buf = Buffer.alloc(SUPERBLOCK_HEADER_BYTES + body.length);
  SUPERBLOCK_MAGIC.copy(buf, 0);
  buf.writeUInt32LE(SUPERBLOCK_VERSION, 8);
  buf.writeUInt32LE(body.length, 12);
  buf.writeBigUInt64LE(BigInt(sb.generation), 16);
  buf.writeUInt32LE(crc32(body), 24);
  buf.writeUInt32LE(crc32(buf.subarray(0, 28)), 28);
  body.copy(buf, SUPERBLOCK_HEADER_BYTES);
  return buf;
}

/** Decodes a slot; returns null for a blank slot, throws CorruptionError for a damaged one. */
export function decodeSuperblock(buf: Buffer): Superblock | null {
  if (buf.subarray(0, 8).every((b) => b === 0)) return null;
  if (!buf.subarray(0, 8).equals(SUPERBLOCK_MAGIC)) throw new CorruptionError('superblock magic is wrong');
  if (buf.readUInt32LE(28) !== crc32(buf.subarray(0, 28))) throw new CorruptionError('superblock header CRC mismatch');
  const version = buf.readUInt32LE(8);
  if (version !== SUPERBLOCK_VERSION) {
    throw new CorruptionError(`superblock format version ${version} is not supported (this build reads ${SUPERBLOCK_VERSION})`);
  }
  const bodyBytes = buf.readUInt32LE(12);
  if (SUPERBLOCK_HEADER_BYTES + bodyBytes > buf.length) throw new CorruptionError('superblock body length is past its slot');
  const body = buf.subarray(SUPERBLOCK_HEADER_BYTES, SUPERBLOCK_HEADER_BYTES + bodyBytes);
  if (crc32(body) !== buf.readUInt32LE(24)) throw new CorruptionError('superblock body CRC mismatch');
  let parsed: SuperblockBody;
  try {
    parsed = JSON.parse(body.toString('utf8')) as SuperblockBody;
  } catch (err) {
    throw new CorruptionError('superblock body is not JSON', {}, err);
  }
  return { generation: Number(buf.readBigUInt64LE(16)), body: parsed };
}
