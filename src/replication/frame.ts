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
/** Largest payload before the peer has authenticated: the handshake's messages are a few
 * hundred bytes, and an unauthenticated peer must not make anyone buffer megabytes. */
export const PREAUTH_PAYLOAD_MAX = 4096;

export interface Frame {
  type: number;
  number: number;
  payload: Buffer;
}

export function encodeFrame(type: number, number: number, payload: Buffer): Buffer {
  if (payload.length > FRAME_PAYLOAD_MAX) throw new ProtocolError(`frame payload of ${payload.length} bytes is over the ${FRAME_PAYLOAD_MAX}-byte limit`);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  payload.copy(frame, FRAME_HEADER_BYTES);
  sealFrame(frame, 0, type, number, payload.length);
  return frame;
}

/** Writes the header of a frame whose payload already sits right after it in `buf` (at
 * `at + FRAME_HEADER_BYTES`), CRC included: frames are built in place, with no copy. Every
 * header byte is written, so `buf` may come from Buffer.allocUnsafe. */
export function sealFrame(buf: Buffer, at: number, type: number, number: number, payloadBytes: number): void {
  buf.writeUInt32BE(FRAME_MAGIC, at);
  buf.writeUInt8(PROTOCOL_VERSION, at + 4);
  buf.writeUInt8(type, at + 5);
  buf.writeUInt16BE(0, at + 6);
  buf.writeUInt32BE(number, at + 8);
  buf.writeUInt32BE(payloadBytes, at + 12);
  buf.writeUInt32BE(0, at + 16);
  const end = at + FRAME_HEADER_BYTES + payloadBytes;
  buf.writeUInt32BE(crc32(buf.subarray(at + FRAME_HEADER_BYTES, end), crc32(buf.subarray(at, at + FRAME_HEADER_BYTES))), at + 16);
}

/** The CRC field's bytes as the CRC sees them (zero). */
const CRC_FIELD_ZERO = Buffer.alloc(4);

/** Reassembles frames from a byte stream; throws ProtocolError on anything malformed. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private expected = 1;

  /** `payloadMax`: the largest payload taken (PREAUTH_PAYLOAD_MAX until the peer has
   * authenticated); a header announcing more is refused as soon as it arrives. */
  constructor(public payloadMax = FRAME_PAYLOAD_MAX) {}

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
      if (length > this.payloadMax) {
        const when = this.payloadMax < FRAME_PAYLOAD_MAX ? ' before authentication' : '';
        throw new ProtocolError(`frame of ${length} bytes${when} is over the ${this.payloadMax}-byte limit`, { length, limit: this.payloadMax });
      }
      if (this.buffered < FRAME_HEADER_BYTES + length) break;
      const whole = this.take(FRAME_HEADER_BYTES + length);
      const payload = whole.subarray(FRAME_HEADER_BYTES);
      // the CRC runs over the header with its own field as zeros, then the payload
      const headerCrc = crc32(CRC_FIELD_ZERO, crc32(whole.subarray(0, 16)));
      if (crc32(payload, headerCrc) !== whole.readUInt32BE(16)) throw new ProtocolError('frame CRC mismatch: the stream is damaged');
      const number = whole.readUInt32BE(8);
      if (number !== this.expected) throw new ProtocolError(`frame number ${number} where ${this.expected} was due: a replayed, dropped or reordered frame`);
      this.expected++;
      out.push({ type: whole.readUInt8(5), number, payload });
    }
    return out;
  }

  /** Bytes of a frame begun but not complete: more of it is on its way. */
  get partialBytes(): number {
    return this.buffered;
  }

  /** The first n buffered bytes, without taking them. */
  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0].subarray(0, n);
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    for (const c of this.chunks) {
      at += c.copy(out, at, 0, Math.min(c.length, n - at));
      if (at === n) break;
    }
    return out;
  }

  /** Takes the first n buffered bytes. A frame inside one read is a view of it; only a frame
   * cut between reads is copied, and only its own bytes (joining whole reads copied every byte
   * of a stream of small frames once more). */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    for (let at = 0; at < n;) {
      const c = this.chunks[0];
      const k = c.copy(out, at, 0, Math.min(c.length, n - at));
      at += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}
