// Records: the unit stored in a data column. A record is a 48-byte header followed by its
// payload, padded with zeros to a multiple of 8 bytes. Records never span columns. All
// integers are little-endian. docs/FORMAT.md says the same for users.
//
//   offset size  field
//   0      4     magic 0x5241534c ("LSAR" in the file)
//   4      2     format version (1)
//   6      2     flags: bit 0 TRIM (no payload: tracks [track, track + trackCount) read as
//                zeros and hold no space), bit 1 ZERO (as TRIM, but the client asked for
//                allocated zeros: NBD_CMD_WRITE_ZEROES with NO_HOLE), bits 4..7 compression
//                of the payload (0 none, 1 deflate, 2 lz4)
//   8      4     volume id
//   12     4     payload length in bytes as stored (0 for TRIM and ZERO)
//   16     8     track number (first track for TRIM and ZERO)
//   24     8     write sequence: newer data of a track always has a higher sequence
//   32     4     track count (1 for data records)
//   36     4     CRC-32 of the stored payload (0 when there is none)
//   40     4     reserved, zero
//   44     4     CRC-32 of bytes 0..43
//   48     n     payload (n = payload length), then zeros up to the next multiple of 8

import { CorruptionError } from '../errors';
import { crc32Short } from '../util/crc32-short';

export const RECORD_MAGIC = 0x5241534c;
export const RECORD_VERSION = 1;
export const RECORD_HEADER_BYTES = 48;

export const RECORD_FLAG_TRIM = 1 << 0;
export const RECORD_FLAG_ZERO = 1 << 1;
export const RECORD_COMPRESSION_SHIFT = 4;
export const RECORD_COMPRESSION_MASK = 0xf << RECORD_COMPRESSION_SHIFT;

export const COMPRESSION_NONE = 0;
export const COMPRESSION_DEFLATE = 1;
export const COMPRESSION_LZ4 = 2;

/** A TRIM or ZERO record covers at most this many tracks; longer ranges take several. */
export const TRIM_TRACKS_MAX = 65536;

export interface RecordHeader {
  flags: number;
  volumeId: number;
  payloadBytes: number;
  track: number;
  seq: number;
  trackCount: number;
  payloadCrc: number;
}

export function alignRecord(n: number): number {
  return (n + 7) & ~7;
}

export function recordBytes(payloadBytes: number): number {
  return alignRecord(RECORD_HEADER_BYTES + payloadBytes);
}

export function isTrimLike(flags: number): boolean {
  return (flags & (RECORD_FLAG_TRIM | RECORD_FLAG_ZERO)) !== 0;
}

export function encodeHeader(h: RecordHeader, out: Buffer, at: number): void {
  out.writeUInt32LE(RECORD_MAGIC, at);
  out.writeUInt16LE(RECORD_VERSION, at + 4);
  out.writeUInt16LE(h.flags, at + 6);
  out.writeUInt32LE(h.volumeId, at + 8);
  out.writeUInt32LE(h.payloadBytes, at + 12);
  writeU64(out, at + 16, h.track);
  writeU64(out, at + 24, h.seq);
  out.writeUInt32LE(h.trackCount, at + 32);
  out.writeUInt32LE(h.payloadCrc, at + 36);
  out.writeUInt32LE(0, at + 40);
  out.writeUInt32LE(crc32Short(out, at, at + 44), at + 44);
}

/** Returns null when the bytes are not a record header at all (no magic, or a header CRC
 * mismatch), so a scan can tell "nothing here" from a record. */
export function tryDecodeHeader(buf: Buffer, at: number): RecordHeader | null {
  if (at + RECORD_HEADER_BYTES > buf.length) return null;
  if (buf.readUInt32LE(at) !== RECORD_MAGIC) return null;
  if (buf.readUInt32LE(at + 44) !== crc32Short(buf, at, at + 44)) return null;
  if (buf.readUInt16LE(at + 4) !== RECORD_VERSION) return null;
  return {
    flags: buf.readUInt16LE(at + 6),
    volumeId: buf.readUInt32LE(at + 8),
    payloadBytes: buf.readUInt32LE(at + 12),
    track: readU64(buf, at + 16),
    seq: readU64(buf, at + 24),
    trackCount: buf.readUInt32LE(at + 32),
    payloadCrc: buf.readUInt32LE(at + 36),
  };
}

export function decodeHeader(buf: Buffer, at: number, where: Record<string, unknown>): RecordHeader {
  const h = tryDecodeHeader(buf, at);
  if (!h) throw new CorruptionError(`no valid record header at ${describe(where)}`, where);
  return h;
}

function describe(where: Record<string, unknown>): string {
  return Object.entries(where).map(([k, v]) => `${k} ${v}`).join(', ');
}

export function writeU64(buf: Buffer, at: number, v: number): void {
  buf.writeUInt32LE(v % 0x100000000, at);
  buf.writeUInt32LE(Math.floor(v / 0x100000000), at + 4);
}

export function readU64(buf: Buffer, at: number): number {
  return buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) * 0x100000000;
}
