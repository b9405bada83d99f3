// Messages of the replication link (docs/PROTOCOL.md). Control messages carry JSON; UPDATE
// carries a binary header and the tracks' bytes. Every decoder validates what it reads.

import { ProtocolError } from '../errors';

export const MSG = {
  HELLO: 1,
  CHALLENGE: 2,
  AUTH: 3,
  READY: 4,
  ERROR: 5,
  VOLUME: 6,
  VOLUME_OK: 7,
  UPDATE: 8,
  RECEIVED: 9,
  COMMIT: 10,
  APPLIED: 11,
  SNAPSHOT: 12,
  SNAPSHOT_DONE: 13,
  /** Restore: the primary reads a snapshot range back (restore-messages.ts). */
  RESTORE_READ: 14,
  RESTORE_DATA: 15,
  /** The greeting, in the clear before TLS (link-greeting.ts). */
  LINK: 16,
} as const;

/** The version both ends put in LINK and HELLO (the frame header carries the frame format's
 * own). 2: the LINK greeting, TLS, and the primary proving itself first. */
export const PROTOCOL_VERSION_JSON = 2;

export type UpdateKind = 'write' | 'trim' | 'zero';
const KINDS: UpdateKind[] = ['write', 'trim', 'zero'];

export interface UpdateMessage {
  volumeId: number;
  kind: UpdateKind;
  track: number;
  count: number;
  seq: number;
  timestampMs: number;
  data: Buffer | null;
}

//   offset size  field (UPDATE payload)
//   0      4     primary volume id
//   4      1     kind: 0 write, 1 trim, 2 zero
//   5      3     reserved
//   8      8     first track
//   16     4     track count
//   20     4     reserved
//   24     8     sequence (of the first track; data tracks count up from it)
//   32     8     timestamp, ms since the epoch
//   40     n     data: count x track bytes for a write, nothing otherwise
export const UPDATE_HEADER_BYTES = 40;

/** The header of an UPDATE: the frame carries it and then the data (FramedSocket.sendParts),
 * so the data is copied once, into the outgoing batch. */
export function encodeUpdateHeader(u: Omit<UpdateMessage, 'data'>): Buffer {
  const head = Buffer.alloc(UPDATE_HEADER_BYTES);
  head.writeUInt32LE(u.volumeId, 0);
  head.writeUInt8(KINDS.indexOf(u.kind), 4);
  writeU64(head, 8, u.track);
  head.writeUInt32LE(u.count, 16);
  writeU64(head, 24, u.seq);
  writeU64(head, 32, u.timestampMs);
  return head;
}

export function decodeUpdate(p: Buffer, trackBytes: number): UpdateMessage {
  if (p.length < UPDATE_HEADER_BYTES) throw new ProtocolError(`UPDATE of ${p.length} bytes is shorter than its header`);
  const kind = KINDS[p.readUInt8(4)];
  if (!kind) throw new ProtocolError(`UPDATE has unknown kind ${p.readUInt8(4)}`);
  const track = readU64(p, 8);
  const count = p.readUInt32LE(16);
  const seq = readU64(p, 24);
  const timestampMs = readU64(p, 32);
  if (!Number.isSafeInteger(track) || !Number.isSafeInteger(seq) || seq <= 0 || count === 0) throw new ProtocolError('UPDATE has impossible fields');
  const dataBytes = p.length - UPDATE_HEADER_BYTES;
  if (kind === 'write' && dataBytes !== count * trackBytes) {
    throw new ProtocolError(`UPDATE of ${count} track(s) carries ${dataBytes} bytes, not ${count * trackBytes}`);
  }
  if (kind !== 'write' && dataBytes !== 0) throw new ProtocolError(`a ${kind} UPDATE carries data`);
  return { volumeId: p.readUInt32LE(0), kind, track, count, seq, timestampMs, data: kind === 'write' ? p.subarray(UPDATE_HEADER_BYTES) : null };
}

// 64-bit fields as two 32-bit halves (a BigInt per field cost more than the rest of the
// header). A value of 2^53 or more reads as an unsafe integer, which the checks above refuse.
const TWO_32 = 2 ** 32;

function writeU64(b: Buffer, at: number, v: number): void {
  b.writeUInt32LE(v % TWO_32, at);
  b.writeUInt32LE(Math.floor(v / TWO_32), at + 4);
}

function readU64(b: Buffer, at: number): number {
  return b.readUInt32LE(at + 4) * TWO_32 + b.readUInt32LE(at);
}

export function encodeJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** Parses a JSON control message and checks the fields it must have. */
export function decodeJson<T>(p: Buffer, what: string, fields: Record<string, 'string' | 'number' | 'object' | 'boolean'>): T {
  let v: unknown;
  try {
    v = JSON.parse(p.toString('utf8'));
  } catch {
    throw new ProtocolError(`${what}: payload is not JSON`);
  }
  if (typeof v !== 'object' || v === null) throw new ProtocolError(`${what}: payload is not an object`);
  for (const [k, t] of Object.entries(fields)) {
    if (typeof (v as Record<string, unknown>)[k] !== t) throw new ProtocolError(`${what}: field "${k}" is missing or not a ${t}`);
  }
  return v as T;
}
