// The secondary's bounds on connections that have not authenticated yet (issue 14): at most
// HANDSHAKES_MAX at once (one more is refused with a reason), each closed at an absolute
// deadline counted from its accept (a peer that sends a byte now and then does not extend it),
// and their frames at most PREAUTH_PAYLOAD_MAX (frame.ts). A failed handshake is logged once
// per distinct reason, and refusals at most once per LOG_EVERY_MS with a count: neither the
// primary's retries nor a flood of strangers floods the log.

import { ProtocolError } from '../errors';
import type { Cancel, Timers } from '../io/timers';
import type { ByteStream } from '../io/transport';
import type { Logger } from '../util/log';
import type { FramedSocket } from './framed-socket';
import { refuse } from './link-greeting';

/** Handshakes in progress at once; the next connection is refused until one ends. */
export const HANDSHAKES_MAX = 8;
/** From accept to an authenticated primary, whatever the peer sends meanwhile. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Refusals (too many handshakes) are logged at most this often. */
const LOG_EVERY_MS = 10_000;

export interface GateLimits {
  handshakesMax: number;
  handshakeTimeoutMs: number;
}

/** One connection from accept until it authenticated or closed. */
export class Handshake {
  /** Once frames run on it (after the greeting and TLS): what the deadline fails. */
  link: FramedSocket | null = null;
  /** Why it ended, if it did (the first reason wins: the deadline over the close it causes). */
  endReason: string | null = null;
  cancelDeadline: Cancel = () => undefined;

  constructor(public stream: ByteStream, readonly peer: string) {}

  get isOver(): boolean {
    return this.endReason !== null;
  }
}

export class HandshakeGate {
  private open = new Set<Handshake>();
  private lastFailure = '';
  private refusedUnlogged = 0;
  private lastRefusalLogMs = -Infinity;

  constructor(private readonly timers: Timers, private readonly log: Logger, readonly limits: GateLimits = { handshakesMax: HANDSHAKES_MAX, handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS }) {}

  get inProgress(): number {
    return this.open.size;
  }

  /** A new connection: counted and timed, or refused (told why, closed) when too many are
   * in progress. */
  admit(stream: ByteStream): Handshake | null {
    const { handshakesMax, handshakeTimeoutMs } = this.limits;
    if (this.open.size >= handshakesMax) {
      refuse(stream, 'LSA_TRY_AGAIN', `${handshakesMax} replication handshakes are in progress on this secondary; try again later`);
      this.refusedUnlogged++;
      const now = this.timers.nowMs();
      if (now - this.lastRefusalLogMs >= LOG_EVERY_MS) {
        this.log.warn('connections refused: too many handshakes in progress', { peer: stream.peer, refused: this.refusedUnlogged, handshakesMax });
        this.refusedUnlogged = 0;
        this.lastRefusalLogMs = now;
      }
      return null;
    }
    const hs = new Handshake(stream, stream.peer);
    this.open.add(hs);
    hs.cancelDeadline = this.timers.after(handshakeTimeoutMs, () => this.expire(hs, `no authenticated primary within ${handshakeTimeoutMs} ms`));
    this.log.debug('primary connecting', { peer: hs.peer });
    return hs;
  }

  private expire(hs: Handshake, reason: string): void {
    if (hs.isOver) return;
    if (hs.link) hs.link.fail(new ProtocolError(reason)); // its close handler calls failed()
    else {
      this.failed(hs, reason);
      hs.stream.destroy();
    }
  }

  /** The handshake failed (or the connection closed before it ended). Logged once per reason:
   * a refused primary retries every half second. */
  failed(hs: Handshake, reason: string): void {
    if (hs.isOver) return;
    this.end(hs, reason);
    if (reason === this.lastFailure) return;
    this.lastFailure = reason;
    this.log.warn('primary refused: handshake failed, nothing written', { peer: hs.peer, reason });
  }

  /** The primary authenticated: no longer counted, no deadline. */
  succeeded(hs: Handshake): void {
    this.end(hs, 'authenticated');
    this.lastFailure = '';
  }

  /** Shutdown: every connection still in its handshake is closed. */
  closeAll(reason: string): void {
    for (const hs of [...this.open]) {
      this.end(hs, reason);
      if (hs.link) hs.link.close(reason);
      else hs.stream.destroy();
    }
  }

  private end(hs: Handshake, reason: string): void {
    hs.endReason = reason;
    hs.cancelDeadline();
    this.open.delete(hs);
  }
}
