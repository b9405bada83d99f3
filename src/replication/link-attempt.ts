// One attempt of the primary to bring the replication link up: connect, greet in the clear
// (link-greeting.ts), TLS-PSK, then HELLO -> CHALLENGE -> AUTH -> READY, all within one
// absolute deadline. The primary proves itself (AUTH) before the secondary does (READY); both
// proofs are bound to the TLS session (auth.ts). Until READY checks out, a frame of more than
// PREAUTH_PAYLOAD_MAX closes the connection. After it, frames go to the replicator.

import { AuthenticationError, ProtocolError } from '../errors';
import type { Cancel, Timers } from '../io/timers';
import type { Address, ByteStream, Transport } from '../io/transport';
import { newNonce, proof, proofMatches, validNonce } from './auth';
import { FramedSocket } from './framed-socket';
import { PREAUTH_PAYLOAD_MAX, type Frame } from './frame';
import { greetAsPrimary, type LinkSecurity } from './link-greeting';
import { MSG, PROTOCOL_VERSION_JSON, decodeJson } from './messages';

export interface AttemptConfig {
  address: Address;
  transport: Transport;
  timers: Timers;
  security: LinkSecurity;
  random?: (bytes: number) => Buffer;
  handshakeTimeoutMs: number;
  /** HELLO's fields besides protocol, role and nonce. */
  hello: { arrayId: string; mode: string };
}

export interface ReadyInfo {
  trackBytes: number;
  arrayId: string;
}

export interface AttemptEvents {
  /** The secondary proved itself: from now on its frames go to frame(). */
  ready(link: FramedSocket, info: ReadyInfo): void;
  frame(link: FramedSocket, f: Frame): void | Promise<void>;
  /** The attempt failed, or its link (up or not) closed: called once, with the reason and,
   * when this end found the fault, the error (an AuthenticationError for a wrong key). */
  down(reason: string, err: unknown): void;
}

export class LinkAttempt {
  private link: FramedSocket | null = null;
  private stream: ByteStream | null = null;
  private readonly abort = new AbortController();
  private readonly cancelDeadline: Cancel;
  private nonce = '';
  private secondaryNonce = '';
  private up = false;
  private over = false;
  /** The error this end found, if any (reported with the close it causes). */
  private failure: unknown = null;

  constructor(private readonly cfg: AttemptConfig, private readonly events: AttemptEvents) {
    const ms = cfg.handshakeTimeoutMs;
    this.cancelDeadline = cfg.timers.after(ms, () => this.end(new ProtocolError(`no authenticated secondary within ${ms} ms`)));
    this.open().catch((err: unknown) => this.end(err));
  }

  private async open(): Promise<void> {
    const raw = await this.cfg.transport.connect(this.cfg.address, this.abort.signal);
    this.stream = raw;
    if (this.over) return raw.destroy();
    const stream = await greetAsPrimary(raw, this.cfg.security);
    this.stream = stream;
    if (this.over) return stream.destroy();
    this.nonce = newNonce(this.cfg.random);
    const link: FramedSocket = new FramedSocket(stream, this.cfg.timers, (f) => this.onFrame(link, f), (reason) => this.closed(reason), PREAUTH_PAYLOAD_MAX);
    this.link = link;
    // arrayId lets the secondary tell a new primary array from the one its watermarks are
    // about; mode lets it batch its commits when nobody waits for RECEIVED (async)
    link.sendJson(MSG.HELLO, { protocol: PROTOCOL_VERSION_JSON, role: 'primary', nonce: this.nonce, ...this.cfg.hello });
  }

  private onFrame(link: FramedSocket, f: Frame): void | Promise<void> {
    if (this.up) return this.events.frame(link, f);
    try {
      this.handshake(link, f);
    } catch (err) {
      this.failure = err;
      throw err; // the link says why to the peer and closes
    }
  }

  private handshake(link: FramedSocket, f: Frame): void {
    const { macKey } = this.cfg.security.keys;
    const binding = link.stream.channelBinding();
    if (f.type === MSG.CHALLENGE && !this.secondaryNonce) {
      // the primary proves itself first; the secondary's proof comes in READY
      const c = decodeJson<{ nonce: string }>(f.payload, 'CHALLENGE', { nonce: 'string' });
      if (!validNonce(c.nonce)) throw new ProtocolError('CHALLENGE is malformed');
      this.secondaryNonce = c.nonce;
      link.sendJson(MSG.AUTH, { proof: proof(macKey, 'primary', this.nonce, c.nonce, binding) });
      return;
    }
    if (f.type === MSG.READY && this.secondaryNonce) {
      const r = decodeJson<ReadyInfo & { proof: string }>(f.payload, 'READY', { trackBytes: 'number', proof: 'string' });
      if (!proofMatches(proof(macKey, 'secondary', this.nonce, this.secondaryNonce, binding), r.proof)) {
        throw new AuthenticationError('authentication failed: the secondary does not hold this primary\'s replication key (check --key-file on both ends)');
      }
      this.up = true;
      this.cancelDeadline();
      link.authenticated();
      this.events.ready(link, { trackBytes: r.trackBytes, arrayId: typeof r.arrayId === 'string' ? r.arrayId : '' });
      return;
    }
    throw new ProtocolError(`unexpected message type ${f.type} before the link is ready`);
  }

  /** Ends the attempt (an error, the deadline passed, or stop()); its link closes saying why. */
  end(err: unknown): void {
    if (this.over) return;
    this.failure ??= err;
    if (this.link) {
      this.link.fail(err); // closed() follows
      return;
    }
    this.over = true;
    this.cancelDeadline();
    this.abort.abort();
    this.stream?.destroy();
    this.events.down(err instanceof Error ? err.message : String(err), this.failure);
  }

  /** A clean stop: an up link is closed with `reason`, an attempt under way given up. */
  stop(reason: string): void {
    if (this.link && this.up) this.link.close(reason);
    else this.end(new ProtocolError(reason));
  }

  private closed(reason: string): void {
    if (this.over) return;
    this.over = true;
    this.cancelDeadline();
    this.events.down(reason, this.failure);
  }
}
