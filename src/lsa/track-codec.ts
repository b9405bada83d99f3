// Compression of track payloads (the patent's variable-length tracks). A volume's `compress`
// mode picks the codec; each track is stored compressed only when that saves at least one
// record alignment unit (8 bytes), so incompressible data costs one trial compression and no
// space. The record's flags (bits 4..7, record-format.ts) name the codec of that record, so
// a volume may hold records of several codecs (uncompressed ones always) and changing modes
// needs no rewrite. The payload CRC covers the stored bytes, so the collector moves a record
// as it is.
//
// Stored forms:
//   deflate   raw deflate (RFC 1951) of the track, from node:zlib at level DEFLATE_LEVEL
//   lz4       the lz4-napi block format: 4-byte little-endian uncompressed length, then an LZ4
//             block (lz4_flex's size-prepended format)
//
// Bytes from disk are untrusted even past their CRC (a bug, a foreign writer): decompression
// is bounded by the track size and anything that does not expand to exactly one track is a
// CorruptionError.

import { inflateRawSync, deflateRawSync } from 'node:zlib';
import { CorruptionError, InvalidArgumentError } from '../errors';
import {
  COMPRESSION_DEFLATE, COMPRESSION_LZ4, COMPRESSION_NONE, RECORD_COMPRESSION_MASK, RECORD_COMPRESSION_SHIFT, recordBytes,
} from './record-format';

/** zlib level for deflate: the fastest; the per-call setup dominates 4 KiB tracks anyway. */
export const DEFLATE_LEVEL = 1;
/** Bytes of the uncompressed length in front of an lz4 block. */
const LZ4_SIZE_PREFIX_BYTES = 4;

export const COMPRESS_MODES = ['none', 'deflate', 'lz4'] as const;
export type CompressMode = (typeof COMPRESS_MODES)[number];

interface Lz4 {
  compressSync(data: Buffer): Buffer;
  uncompressSync(data: Uint8Array): Buffer;
}

let lz4Module: Lz4 | null = null;
let lz4Failure: string | null = null;

/** lz4-napi, loaded on first use so that a missing native binary only affects lz4 volumes. */
function lz4(): Lz4 {
  if (lz4Module) return lz4Module;
  if (lz4Failure === null) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      lz4Module = require('lz4-napi') as Lz4;
      return lz4Module;
    } catch (err) {
      lz4Failure = (err as Error).message.split('\n')[0];
    }
  }
  throw new InvalidArgumentError(
    `lz4 compression is not available on this machine: the lz4-napi package failed to load (${lz4Failure}); use --compress deflate or none`,
    { codec: 'lz4' },
  );
}

/** The record codec number for a volume's compress mode. */
export function codecOf(mode: string): number {
  switch (mode) {
    case 'deflate':
      return COMPRESSION_DEFLATE;
    case 'lz4':
      return COMPRESSION_LZ4;
    default:
      return COMPRESSION_NONE;
  }
}

/** Refuses a compress mode this build cannot serve (unknown, or lz4 without its binary). */
export function checkCompressMode(mode: string): void {
  if (!(COMPRESS_MODES as readonly string[]).includes(mode)) {
    throw new InvalidArgumentError(`--compress must be one of ${COMPRESS_MODES.join(', ')}; got "${mode}"`, { compress: mode });
  }
  if (mode === 'lz4') lz4();
}

/** The codec a record's flags name. */
export function codecOfFlags(flags: number): number {
  return (flags & RECORD_COMPRESSION_MASK) >>> RECORD_COMPRESSION_SHIFT;
}

export function flagsOfCodec(codec: number): number {
  return codec << RECORD_COMPRESSION_SHIFT;
}

/** The track compressed with `codec`, or null when that would not make its record smaller. */
export function compressTrack(codec: number, track: Buffer): Buffer | null {
  let out: Buffer;
  if (codec === COMPRESSION_DEFLATE) out = deflateRawSync(track, { level: DEFLATE_LEVEL });
  else if (codec === COMPRESSION_LZ4) out = lz4().compressSync(track);
  else return null;
  return recordBytes(out.length) < recordBytes(track.length) ? out : null;
}

/** Whether a stored payload of this length and codec could be a track of `trackBytes` that
 * this build wrote (for scans that decide which records to trust). */
export function plausibleStored(codec: number, payloadBytes: number, trackBytes: number): boolean {
  if (codec === COMPRESSION_NONE) return payloadBytes === trackBytes;
  if (codec !== COMPRESSION_DEFLATE && codec !== COMPRESSION_LZ4) return false;
  return payloadBytes > 0 && recordBytes(payloadBytes) < recordBytes(trackBytes);
}

/** The track a stored payload holds; throws CorruptionError unless it is exactly one track. */
export function expandTrack(codec: number, stored: Buffer, trackBytes: number, where: Record<string, unknown>): Buffer {
  const bad = (why: string, cause?: unknown): never => {
    throw new CorruptionError(`${describe(where)}: the stored track ${why}`, { ...where, codec }, cause);
  };
  let out: Buffer;
  if (codec === COMPRESSION_NONE) {
    out = stored;
  } else if (codec === COMPRESSION_DEFLATE) {
    try {
      out = inflateRawSync(stored, { maxOutputLength: trackBytes });
    } catch (err) {
      return bad('does not inflate to one track (deflate)', err);
    }
  } else if (codec === COMPRESSION_LZ4) {
    // the prefix is checked first: lz4-napi would allocate whatever length it claims
    if (stored.length < LZ4_SIZE_PREFIX_BYTES || stored.readUInt32LE(0) !== trackBytes) return bad('has a bad lz4 length prefix');
    try {
      out = lz4().uncompressSync(stored);
    } catch (err) {
      if (err instanceof InvalidArgumentError) throw err;
      return bad('does not decompress (lz4)', err);
    }
  } else {
    return bad(`names an unknown codec ${codec}`);
  }
  if (out.length !== trackBytes) bad(`expands to ${out.length} bytes, not ${trackBytes}`);
  return out;
}

function describe(where: Record<string, unknown>): string {
  return Object.entries(where).map(([k, v]) => `${k} ${v}`).join(', ');
}
