// A byte stream (src/io/transport.ts: TCP, TLS or the in-memory network) that speaks frames:
// numbers outgoing frames, reassembles and validates incoming ones, and turns anything
// malformed into one close with a reason.

import { ProtocolError } from '../errors';
import type { Timers } from '../io/timers';
import type { ByteStream } from '../io/transport';
import { FrameBatch } from './frame-batch';
import { FRAME_PAYLOAD_MAX, FrameReader, type Frame } from './frame';
import { MSG, decodeJson, encodeJson } from './messages';

/** Bytes queued in the socket before senders wait for it to drain. */
export const SEND_BUFFER_HIGH_BYTES = 8 * 1024 * 1024;
/** Received frame bytes waiting for their handler before the socket stops reading: TCP flow
 * control then slows the sender, so a slow receiver never buffers without bound. */
export const RECEIVE_QUEUE_HIGH_BYTES = 16 * 1024 * 1024;

export class FramedSocket {
  private sent = 0;
  private reader: FrameReader;
  private closed = false;
  private drainWaiters: (() => void)[] = [];
  /** Frames received and not yet handled: they are handled one at a time, in order, even when
   * a handler awaits. A handler that returns no promise costs no promise. */
  private inbox: Frame[] = [];
  private handling = false;
  /** Payload bytes received and not yet handled (see RECEIVE_QUEUE_HIGH_BYTES). */
  private inboxBytes = 0;
  private paused = false;
  /** Frames sent and not yet handed to the socket (it takes them once per turn of the event
   * loop: a burst of host writes leaves in one write system call). */
  private outbox = new FrameBatch();
  private outboxScheduled = false;
  /** The stream itself said it is closed: nothing more can be written to it. */
  private streamClosed = false;
  closeReason = '';
  /** When the last valid frame arrived; the primary's silence check reads it. */
  lastHeardMs: number;
  /** When the last frame was sent; the primary sends a heartbeat when the link is idle. */
  lastSentMs: number;

  /** `payloadMax`: the largest frame taken from the peer until authenticated() (frame.ts). */
  constructor(readonly stream: ByteStream, private readonly timers: Timers, private onFrame: (f: Frame) => void | Promise<void>, private onClose: (reason: string) => void, payloadMax = FRAME_PAYLOAD_MAX) {
    this.reader = new FrameReader(payloadMax);
    this.lastHeardMs = timers.nowMs();
    this.lastSentMs = this.lastHeardMs;
    stream.attach({
      data: (data) => this.onData(data),
      drain: () => this.wakeDrain(),
      close: (reason) => {
        this.streamClosed = true;
        this.close(reason);
      },
    });
  }

  private onData(data: Buffer): void {
    if (this.closed) return;
    let frames: Frame[];
    try {
      frames = this.reader.push(data);
    } catch (err) {
      // the damage is in what the peer sent; our direction still works, so say why
      this.fail(err instanceof ProtocolError ? err : new ProtocolError(String(err)));
      return;
    }
    if (frames.length > 0) this.lastHeardMs = this.timers.nowMs();
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
      this.inboxBytes += f.payload.length;
      this.inbox.push(f);
    }
    if (!this.handling) void this.handleInbox();
    if (!this.paused && this.inboxBytes > RECEIVE_QUEUE_HIGH_BYTES) {
      this.paused = true;
      this.stream.pause();
    }
  }

  private async handleInbox(): Promise<void> {
    this.handling = true;
    try {
      while (this.inbox.length > 0 && !this.closed) {
        const batch = this.inbox;
        this.inbox = [];
        for (const f of batch) {
          if (this.closed) return;
          try {
            const pending = this.onFrame(f);
            if (pending) await pending;
          } catch (err) {
            this.fail(err);
            return;
          }
          this.handled(f.payload.length);
        }
      }
    } finally {
      this.handling = false;
    }
  }

  private handled(bytes: number): void {
    this.inboxBytes -= bytes;
    if (this.paused && this.inboxBytes <= RECEIVE_QUEUE_HIGH_BYTES / 2) {
      this.paused = false;
      if (!this.closed) this.stream.resume();
    }
  }

  /** The peer proved itself: its frames may be as large as the protocol allows. */
  authenticated(): void {
    this.reader.payloadMax = FRAME_PAYLOAD_MAX;
  }

  /** True while part of a frame has arrived and the rest is on its way. */
  get receiving(): boolean {
    return this.reader.partialBytes > 0;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(type: number, payload: Buffer): boolean {
    return this.sendParts(type, [payload]);
  }

  /** Sends one frame whose payload is `parts` one after the other (copied now: the caller may
   * reuse them at once). False once the connection is closed. */
  sendParts(type: number, parts: readonly Buffer[]): boolean {
    if (this.closed) return false;
    this.sent++;
    this.lastSentMs = this.timers.nowMs();
    this.outbox.add(type, this.sent, parts);
    if (!this.outboxScheduled) {
      this.outboxScheduled = true;
      this.timers.after(0, () => this.writeOutbox());
    }
    return true;
  }

  sendJson(type: number, value: unknown): boolean {
    return this.send(type, encodeJson(value));
  }

  /** Bytes sent and not yet taken by the peer's side of the connection: what the lag bound and
   * `drained` measure. */
  get queuedBytes(): number {
    return this.stream.queuedBytes + this.outbox.bytes;
  }

  private writeOutbox(): void {
    this.outboxScheduled = false;
    const bufs = this.outbox.take();
    if (bufs.length === 0 || this.streamClosed) return;
    this.stream.write(bufs);
    // waiters re-check: the socket may already hold less than their limit
    this.wakeDrain();
  }

  /** Waits until at most `limitBytes` are queued (or the connection closed). */
  async drained(limitBytes = SEND_BUFFER_HIGH_BYTES): Promise<void> {
    while (!this.closed && this.queuedBytes > limitBytes) {
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
    // frames sent before the close (an ERROR saying why) still go out, ahead of the FIN
    this.writeOutbox();
    this.closed = true;
    this.closeReason = reason;
    this.wakeDrain();
    this.stream.end();
    this.onClose(reason);
  }
}
