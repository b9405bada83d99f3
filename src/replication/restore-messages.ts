// Messages of a restore (docs/PROTOCOL.md, "Restore"): the primary reads a snapshot back from
// the secondary, one range at a time, and writes it into its own volume through the volume API
// (so the writes replicate back like any host write).
//
//   RESTORE_READ (primary -> secondary), JSON:
//     {id, volume, name, offset, length, seq?}
//     offset a multiple of the track size, 0 < length <= RESTORE_CHUNK_BYTES_MAX, inside the
//     volume; seq (the snapshot's barrier, from the first answer) makes the secondary refuse
//     a snapshot that was replaced since the restore began.
//
//   RESTORE_DATA (secondary -> primary), binary:
//     offset size  field
//     0      4     JSON length n, u32 LE
//     4      n     JSON: {id, seq, capacityBytes, holes: [[offset, length], ...]} or {id, error}
//     4+n    m     the range's bytes outside the holes, in order (m = length - sum of holes)
//   holes are the ranges whose tracks hold no data in the snapshot (never written, trimmed or
//   zeroed): they read as zeros and are not sent.

import { ProtocolError } from '../errors';
import { decodeJson, encodeJson } from './messages';

/** Largest range one RESTORE_READ asks for (the answer fits a frame with room). */
export const RESTORE_CHUNK_BYTES_MAX = 1024 * 1024;

export interface RestoreRead {
  id: number;
  volume: string;
  name: string;
  offset: number;
  length: number;
  seq?: number;
}

export interface RestoreChunk {
  id: number;
  seq: number;
  capacityBytes: number;
  holes: [number, number][];
  data: Buffer;
}

/** The secondary's side: reads a range of a snapshot (throws with a message for the primary). */
export type SnapshotRangeReader = (req: RestoreRead) => Promise<RestoreChunk>;

export function decodeRestoreRead(p: Buffer): RestoreRead {
  const r = decodeJson<RestoreRead>(p, 'RESTORE_READ', { id: 'number', volume: 'string', name: 'string', offset: 'number', length: 'number' });
  if (!Number.isSafeInteger(r.offset) || r.offset < 0 || !Number.isSafeInteger(r.length) || r.length <= 0 || r.length > RESTORE_CHUNK_BYTES_MAX) {
    throw new ProtocolError(`RESTORE_READ of ${r.length} bytes at ${r.offset} is impossible (at most ${RESTORE_CHUNK_BYTES_MAX} bytes)`);
  }
  if (r.seq !== undefined && !Number.isSafeInteger(r.seq)) throw new ProtocolError('RESTORE_READ: seq is not a whole number');
  return r;
}

function frameJson(head: unknown, data: Buffer | null): Buffer {
  const json = encodeJson(head);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length, 0);
  return Buffer.concat(data ? [len, json, data] : [len, json]);
}

export function encodeRestoreData(c: RestoreChunk): Buffer {
  return frameJson({ id: c.id, seq: c.seq, capacityBytes: c.capacityBytes, holes: c.holes }, c.data);
}

export function encodeRestoreError(id: number, error: string, code?: string): Buffer {
  return frameJson(code === undefined ? { id, error } : { id, error, code }, null);
}

/** Splits RESTORE_DATA into its JSON head and data; the id says which request it answers. */
export function decodeRestoreDataHead(p: Buffer): { head: Record<string, unknown> & { id: number }; data: Buffer } {
  if (p.length < 4) throw new ProtocolError('RESTORE_DATA is shorter than its length field');
  const n = p.readUInt32LE(0);
  if (4 + n > p.length) throw new ProtocolError('RESTORE_DATA: JSON length past the end');
  const head = decodeJson<Record<string, unknown> & { id: number }>(p.subarray(4, 4 + n), 'RESTORE_DATA', { id: 'number' });
  return { head, data: p.subarray(4 + n) };
}

/** Checks an answer against the request it answers: holes sorted, inside the range, and the
 * data exactly fills the rest. Throws ProtocolError (the link closes) on anything else. */
export function checkRestoreChunk(req: RestoreRead, head: Record<string, unknown>, data: Buffer): RestoreChunk {
  const seq = head.seq;
  const capacityBytes = head.capacityBytes;
  const holes = head.holes;
  if (typeof seq !== 'number' || typeof capacityBytes !== 'number' || !Array.isArray(holes)) {
    throw new ProtocolError('RESTORE_DATA: seq, capacityBytes or holes missing');
  }
  let at = req.offset;
  let holeBytes = 0;
  for (const h of holes as unknown[]) {
    if (!Array.isArray(h) || h.length !== 2 || !Number.isSafeInteger(h[0]) || !Number.isSafeInteger(h[1])) throw new ProtocolError('RESTORE_DATA: a hole is not [offset, length]');
    const [off, len] = h as [number, number];
    if (off < at || len <= 0 || off + len > req.offset + req.length) throw new ProtocolError(`RESTORE_DATA: hole ${off}+${len} is outside ${req.offset}+${req.length} or out of order`);
    at = off + len;
    holeBytes += len;
  }
  if (data.length !== req.length - holeBytes) {
    throw new ProtocolError(`RESTORE_DATA carries ${data.length} bytes for ${req.length - holeBytes} bytes outside the holes`);
  }
  return { id: req.id, seq, capacityBytes, holes: holes as [number, number][], data };
}
