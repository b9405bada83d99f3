// Exact-length reads from a client socket, with bounded read-ahead: the socket is paused once
// `readAheadBytesMax` bytes (or the bytes a pending read needs, if more) are buffered, so a
// client that sends faster than we serve holds at most that much of our memory.

import type { Socket } from 'node:net';
import { ProtocolError } from '../errors';

/** Why a read ended without its bytes. */
export type ReadEnd = 'eof' | 'timeout' | 'aborted';

export class ReadEndedError extends ProtocolError {
  constructor(readonly reason: ReadEnd, message: string) {
    super(message, { reason });
  }
}

interface Want {
  bytes: number;
  resolve: (buf: Buffer) => void;
  reject: (err: ReadEndedError) => void;
  timeoutMs: number;
  timer: NodeJS.Timeout | null;
}

/** Skipped payloads are consumed in pieces of this size. */
const SKIP_PIECE_BYTES = 256 * 1024;

export class SocketReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private want: Want | null = null;
  private ended: ReadEndedError | null = null;
  private paused = false;
  /** Bytes consumed so far (for log lines). */
  consumedBytes = 0;

  constructor(private readonly socket: Socket, private readonly readAheadBytesMax: number) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      this.settle();
    });
    const onEnd = (): void => this.end(new ReadEndedError('eof', 'the client closed the connection'));
    socket.on('end', onEnd);
    socket.on('close', onEnd);
  }

  /** Bytes received and not yet read. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Exactly `bytes` bytes; rejects with ReadEndedError on EOF, abort, or after `timeoutMs`.
   * With `idleOk`, the clock starts only when the first of those bytes is there: a client may
   * idle between messages, but not stall in the middle of one. */
  read(bytes: number, timeoutMs = 0, idleOk = false): Promise<Buffer> {
    if (this.want) return Promise.reject(new Error('assertion failed: one read at a time'));
    if (this.buffered >= bytes) {
      const buf = this.take(bytes);
      this.flow();
      return Promise.resolve(buf);
    }
    if (this.ended) return Promise.reject(this.ended);
    return new Promise<Buffer>((resolve, reject) => {
      this.want = { bytes, resolve, reject, timeoutMs, timer: null };
      if (!idleOk || this.buffered > 0) this.startTimer(this.want);
      this.flow();
    });
  }

  /** (Re)starts the inactivity clock of a pending read: each arrival of bytes resets it. */
  private startTimer(want: Want): void {
    if (want.timeoutMs <= 0) return;
    if (want.timer) clearTimeout(want.timer);
    want.timer = setTimeout(() => {
      if (this.want !== want) return;
      this.want = null;
      want.reject(new ReadEndedError('timeout', `the client sent ${this.buffered} of ${want.bytes} expected bytes and then nothing for ${want.timeoutMs} ms`));
    }, want.timeoutMs);
  }

  /** Reads and drops `bytes` bytes without holding more than a piece of them. */
  async skip(bytes: number, timeoutMs = 0): Promise<void> {
    let left = bytes;
    while (left > 0) {
      const n = Math.min(left, SKIP_PIECE_BYTES);
      await this.read(n, timeoutMs);
      left -= n;
    }
  }

  /** Fails the pending read and all later ones (shutdown, or the connection is done). */
  abort(message: string): void {
    this.end(new ReadEndedError('aborted', message));
  }

  private end(err: ReadEndedError): void {
    if (!this.ended) this.ended = err;
    const w = this.want;
    if (w && this.buffered < w.bytes) {
      this.want = null;
      if (w.timer) clearTimeout(w.timer);
      w.reject(this.ended);
    }
  }

  private settle(): void {
    const w = this.want;
    if (w && this.buffered >= w.bytes) {
      this.want = null;
      if (w.timer) clearTimeout(w.timer);
      w.resolve(this.take(w.bytes));
    } else if (w && this.buffered > 0) {
      this.startTimer(w);
    }
    this.flow();
  }

  /** Pauses the socket while enough is buffered, resumes it when a read needs more. */
  private flow(): void {
    const limit = Math.max(this.readAheadBytesMax, this.want?.bytes ?? 0);
    const shouldPause = this.buffered >= limit;
    if (shouldPause && !this.paused) {
      this.paused = true;
      this.socket.pause();
    } else if (!shouldPause && this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private take(bytes: number): Buffer {
    this.buffered -= bytes;
    this.consumedBytes += bytes;
    const first = this.chunks[0];
    if (first && first.length >= bytes) {
      const out = first.subarray(0, bytes);
      if (first.length === bytes) this.chunks.shift();
      else this.chunks[0] = first.subarray(bytes);
      return out;
    }
    const out = Buffer.allocUnsafe(bytes);
    let at = 0;
    while (at < bytes) {
      const c = this.chunks[0];
      const n = Math.min(c.length, bytes - at);
      c.copy(out, at, 0, n);
      at += n;
      if (n === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(n);
    }
    return out;
  }
}
