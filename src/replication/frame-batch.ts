// Outgoing frames of one connection, built in place in a shared buffer until the socket takes
// them. A burst of 4 KiB UPDATEs then costs one copy of its bytes and one socket write, where
// a frame each cost two buffers, two copies (update header + data, frame header + payload)
// and a write request of its own. The socket holds on to what it was given until written, so
// taken bytes are never written again: later frames go after them, or into a new buffer.

import { ProtocolError } from '../errors';
import { FRAME_HEADER_BYTES, FRAME_PAYLOAD_MAX, sealFrame } from './frame';

/** Size of one batch buffer. A frame larger than what is left starts a new one (of its own
 * size if it is larger still: a 1 MiB update is one frame). */
export const BATCH_BUFFER_BYTES = 256 * 1024;

export class FrameBatch {
  private buf = Buffer.alloc(0);
  /** buf[start, end) holds frames added and not yet taken. */
  private start = 0;
  private end = 0;
  /** Earlier buffers' untaken frames, in order. */
  private filled: Buffer[] = [];
  private filledBytes = 0;

  /** Bytes added and not yet taken. */
  get bytes(): number {
    return this.filledBytes + this.end - this.start;
  }

  /** Appends one frame whose payload is `parts` one after the other. */
  add(type: number, number: number, parts: readonly Buffer[]): void {
    let payloadBytes = 0;
    for (const p of parts) payloadBytes += p.length;
    if (payloadBytes > FRAME_PAYLOAD_MAX) throw new ProtocolError(`frame payload of ${payloadBytes} bytes is over the ${FRAME_PAYLOAD_MAX}-byte limit`);
    const frameBytes = FRAME_HEADER_BYTES + payloadBytes;
    if (this.end + frameBytes > this.buf.length) this.renew(frameBytes);
    const at = this.end;
    let pos = at + FRAME_HEADER_BYTES;
    for (const p of parts) pos += p.copy(this.buf, pos);
    sealFrame(this.buf, at, type, number, payloadBytes);
    this.end = pos;
  }

  /** Every frame added since the last take, in order, as few buffers as possible. */
  take(): Buffer[] {
    const out = this.filled;
    if (this.end > this.start) out.push(this.buf.subarray(this.start, this.end));
    this.filled = [];
    this.filledBytes = 0;
    this.start = this.end;
    return out;
  }

  private renew(frameBytes: number): void {
    if (this.end > this.start) {
      this.filled.push(this.buf.subarray(this.start, this.end));
      this.filledBytes += this.end - this.start;
    }
    this.buf = Buffer.allocUnsafe(Math.max(BATCH_BUFFER_BYTES, frameBytes));
    this.start = 0;
    this.end = 0;
  }
}
