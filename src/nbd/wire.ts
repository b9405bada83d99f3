// Encoders for what the server sends (see the layout table in constants.ts). Each returns the
// header as a fresh buffer; payload buffers are passed along unchanged, never copied.

import {
  INFO_BLOCK_SIZE, INFO_DESCRIPTION, INFO_EXPORT, INFO_NAME, OPTION_REPLY_MAGIC,
  REPLY_FLAG_DONE, REPLY_TYPE_BLOCK_STATUS, REPLY_TYPE_ERROR, REPLY_TYPE_NONE, REPLY_TYPE_OFFSET_DATA,
  SIMPLE_REPLY_MAGIC, SIMPLE_REPLY_BYTES, STRUCTURED_HEADER_BYTES, STRUCTURED_REPLY_MAGIC,
  FLAG_FIXED_NEWSTYLE, FLAG_NO_ZEROES, IHAVEOPT, NBDMAGIC,
} from './constants';

/** Error messages sent to clients are cut to this many bytes. */
const ERROR_MESSAGE_BYTES_MAX = 1024;

export function greeting(): Buffer {
  const b = Buffer.alloc(18);
  b.writeBigUInt64BE(NBDMAGIC, 0);
  b.writeBigUInt64BE(IHAVEOPT, 8);
  b.writeUInt16BE(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES, 16);
  return b;
}

export function optionReply(option: number, type: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(20 + data.length);
  b.writeBigUInt64BE(OPTION_REPLY_MAGIC, 0);
  b.writeUInt32BE(option >>> 0, 8);
  b.writeUInt32BE(type >>> 0, 12);
  b.writeUInt32BE(data.length, 16);
  data.copy(b, 20);
  return b;
}

/** The answer to NBD_OPT_EXPORT_NAME. */
export function exportNameReply(sizeBytes: number, transmissionFlags: number, noZeroes: boolean): Buffer {
  const b = Buffer.alloc(noZeroes ? 10 : 134);
  b.writeBigUInt64BE(BigInt(sizeBytes), 0);
  b.writeUInt16BE(transmissionFlags, 8);
  return b;
}

export function serverEntry(name: string, description: string): Buffer {
  const n = Buffer.from(name, 'utf8');
  const d = Buffer.from(description, 'utf8');
  const b = Buffer.alloc(4 + n.length + d.length);
  b.writeUInt32BE(n.length, 0);
  n.copy(b, 4);
  d.copy(b, 4 + n.length);
  return b;
}

export function infoExport(sizeBytes: number, transmissionFlags: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(INFO_EXPORT, 0);
  b.writeBigUInt64BE(BigInt(sizeBytes), 2);
  b.writeUInt16BE(transmissionFlags, 10);
  return b;
}

export function infoText(type: typeof INFO_NAME | typeof INFO_DESCRIPTION, text: string): Buffer {
  const t = Buffer.from(text, 'utf8');
  const b = Buffer.alloc(2 + t.length);
  b.writeUInt16BE(type, 0);
  t.copy(b, 2);
  return b;
}

export function infoBlockSize(minimum: number, preferred: number, maximum: number): Buffer {
  const b = Buffer.alloc(14);
  b.writeUInt16BE(INFO_BLOCK_SIZE, 0);
  b.writeUInt32BE(minimum, 2);
  b.writeUInt32BE(preferred, 6);
  b.writeUInt32BE(maximum, 10);
  return b;
}

export function metaContext(id: number, name: string): Buffer {
  const n = Buffer.from(name, 'utf8');
  const b = Buffer.alloc(4 + n.length);
  b.writeUInt32BE(id, 0);
  n.copy(b, 4);
  return b;
}

// ---- transmission ----

export function simpleReply(handle: Buffer, errno: number): Buffer {
  const b = Buffer.alloc(SIMPLE_REPLY_BYTES);
  b.writeUInt32BE(SIMPLE_REPLY_MAGIC, 0);
  b.writeUInt32BE(errno, 4);
  handle.copy(b, 8);
  return b;
}

function chunkHeader(handle: Buffer, flags: number, type: number, payloadBytes: number, extraBytes = 0): Buffer {
  const b = Buffer.alloc(STRUCTURED_HEADER_BYTES + extraBytes);
  b.writeUInt32BE(STRUCTURED_REPLY_MAGIC, 0);
  b.writeUInt16BE(flags, 4);
  b.writeUInt16BE(type, 6);
  handle.copy(b, 8);
  b.writeUInt32BE(payloadBytes, 16);
  return b;
}

/** One OFFSET_DATA chunk marked DONE: header and offset; the data follows separately. */
export function readChunkHeader(handle: Buffer, offset: number, dataBytes: number): Buffer {
  const b = chunkHeader(handle, REPLY_FLAG_DONE, REPLY_TYPE_OFFSET_DATA, 8 + dataBytes, 8);
  b.writeBigUInt64BE(BigInt(offset), STRUCTURED_HEADER_BYTES);
  return b;
}

export function doneChunk(handle: Buffer): Buffer {
  return chunkHeader(handle, REPLY_FLAG_DONE, REPLY_TYPE_NONE, 0);
}

export function errorChunk(handle: Buffer, errno: number, message: string): Buffer {
  let msg = Buffer.from(message, 'utf8');
  if (msg.length > ERROR_MESSAGE_BYTES_MAX) {
    let cut = ERROR_MESSAGE_BYTES_MAX;
    while (cut > 0 && (msg[cut] & 0xc0) === 0x80) cut--; // keep it valid UTF-8
    msg = msg.subarray(0, cut);
  }
  const b = chunkHeader(handle, REPLY_FLAG_DONE, REPLY_TYPE_ERROR, 6 + msg.length, 6 + msg.length);
  b.writeUInt32BE(errno, STRUCTURED_HEADER_BYTES);
  b.writeUInt16BE(msg.length, STRUCTURED_HEADER_BYTES + 4);
  msg.copy(b, STRUCTURED_HEADER_BYTES + 6);
  return b;
}

/** One BLOCK_STATUS chunk marked DONE with (length, flags) descriptors. */
export function blockStatusChunk(handle: Buffer, contextId: number, descriptors: { length: number; flags: number }[]): Buffer {
  const payload = 4 + 8 * descriptors.length;
  const b = chunkHeader(handle, REPLY_FLAG_DONE, REPLY_TYPE_BLOCK_STATUS, payload, payload);
  let at = STRUCTURED_HEADER_BYTES;
  b.writeUInt32BE(contextId, at);
  at += 4;
  for (const d of descriptors) {
    b.writeUInt32BE(d.length, at);
    b.writeUInt32BE(d.flags, at + 4);
    at += 8;
  }
  return b;
}
