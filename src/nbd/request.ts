// The edge of the transmission phase: a request header from the client is decoded and checked
// here, once. What passes is a Request the interior can trust (known command, allowed flags,
// range inside the export, length within limits); what fails becomes the error to answer
// with (errno.ts turns it into an errno).

import { InvalidArgumentError, ReadOnlyError, type LsaError } from '../errors';
import {
  CMD_BLOCK_STATUS, CMD_DISC, CMD_FLAG_DF, CMD_FLAG_FUA, CMD_FLAG_NO_HOLE, CMD_FLAG_REQ_ONE, CMD_FLUSH,
  CMD_READ, CMD_TRIM, CMD_WRITE, CMD_WRITE_ZEROES, PAYLOAD_BYTES_MAX, REQUEST_MAGIC,
} from './constants';
import type { EdgeErrno } from './errno';
import type { Session } from './handshake';

export interface RequestHeader {
  magic: number;
  flags: number;
  type: number;
  /** The client's 8-byte handle, echoed in every reply (a copy). */
  handle: Buffer;
  offset: bigint;
  length: number;
}

/** A checked request: offset and length lie inside the export. */
export interface Request {
  type: number;
  flags: number;
  handle: Buffer;
  offset: number;
  length: number;
}

export const COMMAND_NAMES: Record<number, string> = {
  [CMD_READ]: 'READ', [CMD_WRITE]: 'WRITE', [CMD_DISC]: 'DISC', [CMD_FLUSH]: 'FLUSH',
  [CMD_TRIM]: 'TRIM', [CMD_WRITE_ZEROES]: 'WRITE_ZEROES', [CMD_BLOCK_STATUS]: 'BLOCK_STATUS',
};

export function commandName(type: number): string {
  return COMMAND_NAMES[type] ?? `command ${type}`;
}

export function decodeHeader(buf: Buffer): RequestHeader {
  return {
    magic: buf.readUInt32BE(0),
    flags: buf.readUInt16BE(4),
    type: buf.readUInt16BE(6),
    handle: Buffer.from(buf.subarray(8, 16)),
    offset: buf.readBigUInt64BE(16),
    length: buf.readUInt32BE(24),
  };
}

export function isGoodMagic(h: RequestHeader): boolean {
  return h.magic === REQUEST_MAGIC;
}

/** Bytes of payload that follow this header on the wire (whether or not it is valid). */
export function payloadBytesOf(h: RequestHeader): number {
  return h.type === CMD_WRITE ? h.length : 0;
}

const WRITES = new Set([CMD_WRITE, CMD_TRIM, CMD_WRITE_ZEROES]);

function allowedFlags(type: number, session: Session): number {
  switch (type) {
    case CMD_READ: return CMD_FLAG_FUA | (session.structured ? CMD_FLAG_DF : 0);
    case CMD_WRITE_ZEROES: return CMD_FLAG_FUA | CMD_FLAG_NO_HOLE;
    case CMD_BLOCK_STATUS: return CMD_FLAG_FUA | CMD_FLAG_REQ_ONE;
    default: return CMD_FLAG_FUA;
  }
}

function invalid(message: string, h: RequestHeader, nbd?: EdgeErrno): InvalidArgumentError {
  return new InvalidArgumentError(message, { command: commandName(h.type), offset: h.offset.toString(), length: h.length, flags: h.flags, ...(nbd ? { nbd } : {}) });
}

/** The checked request, or the error to answer it with. DISC is always accepted. */
export function checkRequest(h: RequestHeader, session: Session): Request | LsaError {
  const name = commandName(h.type);
  if (!(h.type in COMMAND_NAMES)) return invalid(`unknown command ${h.type}`, h);
  if (h.type === CMD_DISC) return { type: h.type, flags: h.flags, handle: h.handle, offset: 0, length: 0 };
  const bad = h.flags & ~allowedFlags(h.type, session);
  if (bad !== 0) return invalid(`${name}: command flags 0x${bad.toString(16)} are not valid here`, h);
  if (session.exp.readOnly && WRITES.has(h.type)) {
    return new ReadOnlyError(`${name}: export ${session.exp.name} is read-only`, { command: name });
  }
  if (h.type === CMD_FLUSH) {
    if (h.offset !== 0n || h.length !== 0) return invalid('FLUSH: offset and length must be zero', h);
    return { type: h.type, flags: h.flags, handle: h.handle, offset: 0, length: 0 };
  }
  if (h.type === CMD_BLOCK_STATUS && !session.baseAllocation) {
    return invalid('BLOCK_STATUS: no metadata context was selected (NBD_OPT_SET_META_CONTEXT base:allocation)', h);
  }
  if ((h.type === CMD_READ || h.type === CMD_WRITE) && h.length > PAYLOAD_BYTES_MAX) {
    return invalid(`${name}: ${h.length} bytes is more than the maximum block size ${PAYLOAD_BYTES_MAX}`, h, 'too-large');
  }
  if (h.length === 0) return invalid(`${name}: length must not be zero`, h);
  const size = BigInt(session.exp.volume.sizeBytes);
  if (h.offset > size || BigInt(h.length) > size - h.offset) {
    return invalid(
      `${name}: bytes ${h.offset}..${h.offset + BigInt(h.length) - 1n} are past the end of export ${session.exp.name} (${size} bytes)`,
      h,
      WRITES.has(h.type) ? 'past-end-write' : undefined,
    );
  }
  return { type: h.type, flags: h.flags, handle: h.handle, offset: Number(h.offset), length: h.length };
}
