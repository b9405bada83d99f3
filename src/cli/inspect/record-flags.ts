// Record flags for people: TRIM, ZERO and the compression of the payload (record-format.ts).

import {
  COMPRESSION_DEFLATE, COMPRESSION_LZ4, COMPRESSION_NONE, RECORD_COMPRESSION_MASK, RECORD_COMPRESSION_SHIFT,
  RECORD_FLAG_TRIM, RECORD_FLAG_ZERO,
} from '../../lsa/record-format';

export interface DecodedFlags {
  raw: number;
  trim: boolean;
  zero: boolean;
  compression: string;
}

const COMPRESSION_NAMES: Record<number, string> = { [COMPRESSION_NONE]: 'none', [COMPRESSION_DEFLATE]: 'deflate', [COMPRESSION_LZ4]: 'lz4' };

export function decodeFlags(flags: number): DecodedFlags {
  const c = (flags & RECORD_COMPRESSION_MASK) >> RECORD_COMPRESSION_SHIFT;
  return {
    raw: flags,
    trim: (flags & RECORD_FLAG_TRIM) !== 0,
    zero: (flags & RECORD_FLAG_ZERO) !== 0,
    compression: COMPRESSION_NAMES[c] ?? `unknown(${c})`,
  };
}

/** "TRIM", "ZERO", "deflate", or "-" for a plain uncompressed data record. */
export function flagsText(f: DecodedFlags): string {
  const parts: string[] = [];
  if (f.trim) parts.push('TRIM');
  if (f.zero) parts.push('ZERO');
  if (f.compression !== 'none') parts.push(f.compression);
  return parts.length > 0 ? parts.join('+') : '-';
}
