// A replication peer written by hand for the security tests: it sends whatever frames (or
// bytes) a test wants, on any transport, and records the frames it gets back and how its
// connection ended. It holds no key unless given one; it is the stranger on the port.

import type { ByteStream, Transport, Address } from '../../src/io/transport';
import { encodeFrame, FrameReader, type Frame } from '../../src/replication/frame';
import { MSG, PROTOCOL_VERSION_JSON, encodeJson } from '../../src/replication/messages';

export class RawPeer {
  frames: Frame[] = [];
  closed: string | null = null;
  /** When the close came (on the clock the test gives). */
  closedAtMs = -1;
  private sent = 0;
  private reader = new FrameReader();
  /** Bytes that did not parse as frames (after TLS, or garbage). */
  junk = 0;

  constructor(private stream: ByteStream, private nowMs: () => number = Date.now) {
    this.listen(stream);
  }

  static async connect(transport: Transport, to: Address, nowMs?: () => number): Promise<RawPeer> {
    return new RawPeer(await transport.connect(to), nowMs);
  }

  private listen(stream: ByteStream): void {
    stream.attach({
      data: (d) => {
        try {
          this.frames.push(...this.reader.push(d));
        } catch {
          this.junk += d.length;
        }
      },
      drain: () => undefined,
      close: (reason) => {
        this.closed = reason;
        this.closedAtMs = this.nowMs();
      },
    });
  }

  send(type: number, value: unknown): void {
    this.stream.write([encodeFrame(type, ++this.sent, encodeJson(value))]);
  }

  bytes(b: Buffer): void {
    this.stream.write([b]);
  }

  /** The greeting of a primary (frame 1 of the clear-text part). */
  greet(tls: 'psk' | 'off'): void {
    this.send(MSG.LINK, { protocol: PROTOCOL_VERSION_JSON, role: 'primary', tls });
  }

  /** Frames are numbered from 1 again on the stream after the greeting. */
  restartNumbering(): void {
    this.sent = 0;
    this.reader = new FrameReader();
    this.frames = [];
  }

  /** A frame header announcing `payloadBytes`, valid in every other way (magic, version). */
  static header(type: number, number: number, payloadBytes: number): Buffer {
    const h = Buffer.alloc(20);
    h.writeUInt32BE(0x4c535243, 0);
    h.writeUInt8(1, 4);
    h.writeUInt8(type, 5);
    h.writeUInt32BE(number, 8);
    h.writeUInt32BE(payloadBytes, 12);
    return h;
  }

  json(i: number): Record<string, unknown> {
    return JSON.parse(this.frames[i].payload.toString('utf8')) as Record<string, unknown>;
  }

  destroy(): void {
    this.stream.destroy();
  }
}
