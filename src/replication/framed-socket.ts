// A TCP connection that speaks frames: numbers outgoing frames, reassembles and validates
// incoming ones, and turns anything malformed into one close with a reason.

import type { Socket } from 'node:net';
import { ProtocolError } from '../errors';
import { FrameReader, encodeFrame, type Frame } from './frame';
import { MSG, decodeJson, encodeJson } from './messages';

/** Bytes queued in the socket before senders wait for it to drain. */
export const SEND_BUFFER_HIGH_BYTES = 8 * 1024 * 1024;
/** Received frame bytes waiting for their handler before the socket stops reading: TCP flow
 * control then slows the sender, so a slow receiver never buffers without bound. */
export const RECEIVE_QUEUE_HIGH_BYTES = 16 * 1024 * 1024;

export class FramedSocket {
  private sent = 0;
  private reader = new FrameReader();
  private closed = false;
  private drainWaiters: (() => void)[] = [];
  /** Frames are handled one at a time, in order, even when a handler awaits. */
  private chain: Promise<void> = Promise.resolve();
  /** Payload bytes received and not yet handled (see RECEIVE_QUEUE_HIGH_BYTES). */
  private queuedBytes = 0;
  private paused = false;
  private corked = false;
  closeReason = '';
  /** When the last valid frame arrived (Date.now()); the primary's silence check reads it. */
  lastHeardMs = Date.now();
  /** When the last frame was sent; the primary sends a heartbeat when the link is idle. */
  lastSentMs = Date.now();

  constructor(readonly socket: Socket, private onFrame: (f: Frame) => void | Promise<void>, private onClose: (reason: string) => void) {
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => {
      if (this.closed) return;
      let frames: Frame[];
      try {
        frames = this.reader.push(data);
      } catch (err) {
        // the damage is in what the peer sent; our direction still works, so say why
        this.fail(err instanceof ProtocolError ? err : new ProtocolError(String(err)));
        return;
      }
      if (frames.length > 0) this.lastHeardMs = Date.now();
      for (const f of frames) {
        if (f.type === MSG.ERROR) {
          let msg = 'peer reported an error';
          try {
            msg = decodeJson<{ message: string }>(f.payload, 'ERROR', { message: 'string' }).message;
          } catch {
            // keep the generic message
          }
          this.close(`peer: ${msg}`);
          return;
        }
        this.queuedBytes += f.payload.length;
        this.chain = this.chain.then(async () => {
          if (this.closed) return;
          await this.onFrame(f);
        }).catch((err: unknown) => this.fail(err)).finally(() => this.handled(f.payload.length));
      }
      if (!this.paused && this.queuedBytes > RECEIVE_QUEUE_HIGH_BYTES) {
        this.paused = true;
        socket.pause();
      }
    });
    socket.on('drain', () => this.wakeDrain());
    socket.on('error', (err) => this.close(err.message));
    socket.on('close', () => this.close('connection closed'));
  }

  private handled(bytes: number): void {
    this.queuedBytes -= bytes;
    if (this.paused && this.queuedBytes <= RECEIVE_QUEUE_HIGH_BYTES / 2) {
      this.paused = false;
      if (!this.closed) this.socket.resume();
    }
  }

  /** True while part of a frame has arrived and the rest is on its way. */
  get receiving(): boolean {
    return this.reader.partialBytes > 0;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(type: number, payload: Buffer): boolean {
    if (this.closed) return false;
    this.sent++;
    this.lastSentMs = Date.now();
    // frames sent in one turn of the event loop (a burst of host writes) leave in one write
    // system call rather than one each
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      setImmediate(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    return this.socket.write(encodeFrame(type, this.sent, payload));
  }

  sendJson(type: number, value: unknown): boolean {
    return this.send(type, encodeJson(value));
  }

  /** Waits until the socket's buffer is at most `limitBytes` (or it closed). */
  async drained(limitBytes = SEND_BUFFER_HIGH_BYTES): Promise<void> {
    while (!this.closed && this.socket.writableLength > limitBytes) {
      await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    }
  }

  private wakeDrain(): void {
    for (const w of this.drainWaiters.splice(0)) w();
  }

  /** Tells the peer why (best effort), then closes. */
  fail(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (!this.closed) this.send(MSG.ERROR, encodeJson({ code: (err as { code?: string }).code ?? 'LSA_PROTOCOL', message }));
    this.close(message);
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    this.wakeDrain();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this.onClose(reason);
  }
}
