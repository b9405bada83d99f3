// Frames of the replication link. Every message is one frame; a frame that is damaged,
// oversized, out of order or unknown closes the connection (and is logged), never reaches the
// array. docs/PROTOCOL.md has the same table.
//
//   offset size  field
//   0      4     magic 0x4c535243 ("LSRC" in the stream)
//   4      1     protocol version (1)
//   5      1     message type
//   6      2     reserved, zero
//   8      4     frame number: 1 for the first frame each side sends, +1 for each next one
//                (a replayed or dropped frame breaks the count)
//   12     4     payload length (at most FRAME_PAYLOAD_MAX)
//   16     4     CRC-32 of bytes 0..15 (with this field zero) and of the payload
//   20     n     payload

import { crc32 } from 'node:zlib';
import { ProtocolError } from '../errors';

export const FRAME_MAGIC = 0x4c535243;
export const PROTOCOL_VERSION = 1;
export const FRAME_HEADER_BYTES = 20;
/** Largest payload: a 1 MiB update of data plus its header, with room. */
export const FRAME_PAYLOAD_MAX = 4 * 1024 * 1024;

export interface Frame {
  type: number;
  number: number;
  payload: Buffer;
}

export function encodeFrame(type: number, number: number, payload: Buffer): Buffer {
  if (payload.length > FRAME_PAYLOAD_MAX) throw new ProtocolError(`frame payload of ${payload.length} bytes is over the ${FRAME_PAYLOAD_MAX}-byte limit`);
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header.writeUInt32BE(FRAME_MAGIC, 0);
  header.writeUInt8(PROTOCOL_VERSION, 4);
  header.writeUInt8(type, 5);
  header.writeUInt32BE(number, 8);
  header.writeUInt32BE(payload.length, 12);
  header.writeUInt32BE(crc32(payload, crc32(header)), 16);
  return Buffer.concat([header, payload]);
}

/** Reassembles frames from a byte stream; throws ProtocolError on anything malformed. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private expected = 1;

  push(data: Buffer): Frame[] {
    this.chunks.push(data);
    this.buffered += data.length;
    const out: Frame[] = [];
    for (;;) {
      if (this.buffered < FRAME_HEADER_BYTES) break;
      const head = this.peek(FRAME_HEADER_BYTES);
      if (head.readUInt32BE(0) !== FRAME_MAGIC) throw new ProtocolError('bad frame magic: not an lsa replication peer, or a damaged stream');
      const version = head.readUInt8(4);
      if (version !== PROTOCOL_VERSION) {
        throw new ProtocolError(`peer speaks replication protocol version ${version}; this build speaks ${PROTOCOL_VERSION}`, { version });
      }
      const length = head.readUInt32BE(12);
      if (length > FRAME_PAYLOAD_MAX) throw new ProtocolError(`frame of ${length} bytes is over the ${FRAME_PAYLOAD_MAX}-byte limit`);
      if (this.buffered < FRAME_HEADER_BYTES + length) break;
      const whole = this.take(FRAME_HEADER_BYTES + length);
      const header = Buffer.from(whole.subarray(0, FRAME_HEADER_BYTES));
      const crc = header.readUInt32BE(16);
      header.writeUInt32BE(0, 16);
      const payload = whole.subarray(FRAME_HEADER_BYTES);
      if (crc32(payload, crc32(header)) !== crc) throw new ProtocolError('frame CRC mismatch: the stream is damaged');
      const number = header.readUInt32BE(8);
      if (number !== this.expected) throw new ProtocolError(`frame number ${number} where ${this.expected} was due: a replayed, dropped or reordered frame`);
      this.expected++;
      out.push({ type: header.readUInt8(5), number, payload });
    }
    return out;
  }

  /** Bytes of a frame begun but not complete: more of it is on its way. */
  get partialBytes(): number {
    return this.buffered;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0].subarray(0, n);
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined.subarray(0, n);
  }

  private take(n: number): Buffer {
    const joined = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const out = joined.subarray(0, n);
    const rest = joined.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered -= n;
    return out;
  }
}
