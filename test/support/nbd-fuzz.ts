// Generators for the NBD fuzz test: random and mutated option streams and requests, all
// drawn from one Prng so a seed replays a run, and an independent oracle of which requests
// the protocol says must succeed.

import * as C from '../../src/nbd/constants';
import type { Prng } from '../../src/util/prng';
import { infoData, metaData, optionBytes, requestBytes } from './nbd-client';

const U32_EDGES = [0, 1, 511, 512, 4095, 4096, 65536, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

export function randomName(rng: Prng, known: string[]): string {
  switch (rng.int(5)) {
    case 0: return '';
    case 1: return rng.pick(known);
    case 2: return String.fromCharCode(...Array.from({ length: rng.range(1, 20) }, () => rng.range(1, 0x7e)));
    case 3: return 'x'.repeat(rng.range(100, 5000));
    default: return rng.pick(known) + rng.pick(['\u0000', '/', ' ', '\u00e9', '..']);
  }
}

/** One option message, valid or not. */
export function randomOption(rng: Prng, known: string[]): Buffer {
  const name = randomName(rng, known);
  switch (rng.int(11)) {
    case 0: return optionBytes(C.OPT_LIST);
    case 1: return optionBytes(C.OPT_INFO, infoData(name, Array.from({ length: rng.int(5) }, () => rng.int(6))));
    case 2: return optionBytes(C.OPT_GO, infoData(name, [C.INFO_BLOCK_SIZE]));
    case 3: return optionBytes(C.OPT_STRUCTURED_REPLY);
    case 4: return optionBytes(C.OPT_LIST_META_CONTEXT, metaData(name, rng.chance(0.5) ? [] : ['base:', 'base:allocation', 'x-y:z'].slice(0, rng.range(1, 3))));
    case 5: return optionBytes(C.OPT_SET_META_CONTEXT, metaData(name, [rng.pick(['base:allocation', 'base:', 'nope:x'])]));
    case 6: return optionBytes(C.OPT_ABORT);
    case 7: return optionBytes(C.OPT_EXPORT_NAME, Buffer.from(name, 'utf8'));
    case 8: return optionBytes(C.OPT_STARTTLS);
    case 9: return optionBytes(rng.u32(), rng.fill(Buffer.alloc(rng.int(64))));
    default: return rng.fill(Buffer.alloc(rng.range(1, 40)));
  }
}

/** Random damage: bit flips, byte sets, edge values in 4-byte fields, cuts and insertions. */
export function mutate(rng: Prng, input: Buffer, count: number): Buffer {
  let b: Buffer = Buffer.from(input);
  for (let i = 0; i < count && b.length > 0; i++) {
    const at = rng.int(b.length);
    switch (rng.int(6)) {
      case 0: b[at] ^= 1 << rng.int(8); break;
      case 1: b[at] = rng.int(256); break;
      case 2: if (at + 4 <= b.length) b.writeUInt32BE(rng.pick(U32_EDGES), at); break;
      case 3: b = b.subarray(0, at); break;
      case 4: b = Buffer.concat([b.subarray(0, at), rng.fill(Buffer.alloc(rng.range(1, 16))), b.subarray(at)]); break;
      default: b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + rng.range(1, 8)))]);
    }
  }
  return b;
}

/** A whole handshake byte stream (client flags and options), possibly mutated. */
export function randomHandshake(rng: Prng, known: string[]): Buffer {
  const flags = Buffer.alloc(4);
  flags.writeUInt32BE(rng.chance(0.1) ? rng.u32() : rng.pick([0, 1, 2, 3]), 0);
  const parts: Buffer[] = [flags];
  for (let n = rng.range(0, 8); n > 0; n--) parts.push(randomOption(rng, known));
  const stream = Buffer.concat(parts);
  return rng.chance(0.5) ? mutate(rng, stream, rng.range(1, 4)) : stream;
}

export interface FuzzRequest {
  type: number;
  flags: number;
  offset: bigint;
  length: number;
  payloadBytes: number;
}

const TYPES = [C.CMD_READ, C.CMD_WRITE, C.CMD_FLUSH, C.CMD_TRIM, C.CMD_WRITE_ZEROES, C.CMD_BLOCK_STATUS];

/** Fields of a request: mostly plausible, sometimes out of range or nonsense. */
export function randomRequest(rng: Prng, sizeBytes: number): FuzzRequest {
  const type = rng.chance(0.05) ? rng.pick([5, 8, 42, 0xffff]) : rng.pick(TYPES);
  let flags = 0;
  if (rng.chance(0.3)) flags |= C.CMD_FLAG_FUA;
  if (rng.chance(0.1)) flags |= 1 << rng.int(16);
  if (type === C.CMD_WRITE_ZEROES && rng.chance(0.5)) flags |= C.CMD_FLAG_NO_HOLE;
  if (type === C.CMD_BLOCK_STATUS && rng.chance(0.3)) flags |= C.CMD_FLAG_REQ_ONE;
  if (type === C.CMD_READ && rng.chance(0.2)) flags |= C.CMD_FLAG_DF;
  let length = rng.chance(0.8) ? rng.range(1, 70_000) : rng.pick([0, 1, sizeBytes, C.PAYLOAD_BYTES_MAX, C.PAYLOAD_BYTES_MAX + 1, 0xffffffff]);
  let offset = BigInt(rng.int(sizeBytes));
  if (rng.chance(0.1)) offset = rng.pick([0n, BigInt(sizeBytes), BigInt(sizeBytes - 1), 2n ** 63n, 2n ** 64n - 1n]);
  if (type === C.CMD_FLUSH && rng.chance(0.8)) {
    offset = 0n;
    length = 0;
  }
  return { type, flags, offset, length, payloadBytes: type === C.CMD_WRITE ? length : 0 };
}

export interface SessionShape {
  sizeBytes: number;
  structured: boolean;
  baseAllocation: boolean;
}

/** What the protocol says: must this request succeed? (Independent of the server's code.) */
export function shouldSucceed(r: FuzzRequest, s: SessionShape): boolean {
  const allowed: Record<number, number> = {
    [C.CMD_READ]: C.CMD_FLAG_FUA | (s.structured ? C.CMD_FLAG_DF : 0),
    [C.CMD_WRITE]: C.CMD_FLAG_FUA,
    [C.CMD_FLUSH]: C.CMD_FLAG_FUA,
    [C.CMD_TRIM]: C.CMD_FLAG_FUA,
    [C.CMD_WRITE_ZEROES]: C.CMD_FLAG_FUA | C.CMD_FLAG_NO_HOLE,
    [C.CMD_BLOCK_STATUS]: C.CMD_FLAG_FUA | C.CMD_FLAG_REQ_ONE,
  };
  if (!(r.type in allowed) || (r.flags & ~allowed[r.type]) !== 0) return false;
  if (r.type === C.CMD_FLUSH) return r.offset === 0n && r.length === 0;
  if (r.type === C.CMD_BLOCK_STATUS && !s.baseAllocation) return false;
  if ((r.type === C.CMD_READ || r.type === C.CMD_WRITE) && r.length > C.PAYLOAD_BYTES_MAX) return false;
  return r.length > 0 && r.offset + BigInt(r.length) <= BigInt(s.sizeBytes);
}

export function encodeRequest(r: FuzzRequest, handle: bigint, payload: Buffer | null): Buffer {
  return requestBytes(r.type, r.flags, handle, r.offset, r.length, payload ?? undefined);
}

export const WRITE_TYPES = new Set([C.CMD_WRITE, C.CMD_TRIM, C.CMD_WRITE_ZEROES]);
