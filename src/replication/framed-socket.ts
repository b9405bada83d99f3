// A TCP connection that speaks frames: numbers outgoing frames, reassembles and validates
// incoming ones, and turns anything malformed into one close with a reason.

import type { Socket } from 'node:net';
import { ProtocolError } from '../errors';
import { FrameReader, encodeFrame, type Frame } from './frame';
import { MSG, decodeJson, encodeJson } from './messages';

/** Bytes queued in the socket before senders wait for it to drain. */
export const SEND_BUFFER_HIGH_BYTES = 8 * 1024 * 1024;

export class FramedSocket {
  private sent = 0;
  private reader = new FrameReader();
  private closed = false;
  private drainWaiters: (() => void)[] = [];
  /** Frames are handled one at a time, in order, even when a handler awaits. */
  private chain: Promise<void> = Promise.resolve();
  closeReason = '';

  constructor(readonly socket: Socket, private onFrame: (f: Frame) => void | Promise<void>, private onClose: (reason: string) => void) {
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => {
      if (this.closed) return;
      let frames: Frame[];
      try {
        frames = this.reader.push(data);
      } catch (err) {
        this.close(err instanceof ProtocolError ? err.message : String(err));
        return;
      }
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
        this.chain = this.chain.then(async () => {
          if (this.closed) return;
          await this.onFrame(f);
        }).catch((err: unknown) => this.fail(err));
      }
    });
    socket.on('drain', () => this.wakeDrain());
    socket.on('error', (err) => this.close(err.message));
    socket.on('close', () => this.close('connection closed'));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(type: number, payload: Buffer): boolean {
    if (this.closed) return false;
    this.sent++;
    return this.socket.write(encodeFrame(type, this.sent, payload));
  }

  sendJson(type: number, value: unknown): boolean {
    return this.send(type, encodeJson(value));
  }

  /** Waits until the socket's buffer is below the high-water mark (or it closed). */
  async drained(): Promise<void> {
    while (!this.closed && this.socket.writableLength > SEND_BUFFER_HIGH_BYTES) {
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
