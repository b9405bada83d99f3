// The secondary subsystem's side of the remote copy: the data mover. It authenticates the
// primary, creates missing volumes, stores every UPDATE as records in its own LSA at once
// (listed in the write-pending directory, durable before it says RECEIVED), and applies them
// to the volume directories in sequence order when the primary's COMMIT says they are durable
// there too. A snapshot request freezes application at its barrier until the snapshot is
// taken; updates keep arriving meanwhile.

import { AlreadyExistsError, AuthenticationError, LsaError, ProtocolError } from '../errors';
import { realTimers, sleep, type Timers } from '../io/timers';
import { tcpTransport } from '../io/tcp-transport';
import type { ByteStream, Listener, Transport } from '../io/transport';
import type { LsaEngine, VolumeState } from '../lsa/engine';
import { applyPending, dropPending, forgetContent, pendingFits, roomForPending, storePending } from '../lsa/pending';
import { RECORD_FLAG_TRIM, RECORD_FLAG_ZERO } from '../lsa/record-format';
import { createVolume } from '../lsa/volumes';
import type { Logger } from '../util/log';
import { ASYNC_ACK_BYTES, ackDelay, asyncAckDelay } from './ack-delay';
import { linkKeys, newNonce, proof, proofMatches, validNonce } from './auth';
import { FramedSocket } from './framed-socket';
import { PREAUTH_PAYLOAD_MAX, type Frame } from './frame';
import { HandshakeGate, type GateLimits, type Handshake } from './handshake-gate';
import { greetAsSecondary, type LinkSecurity } from './link-greeting';
import { MSG, PROTOCOL_VERSION_JSON, decodeJson, decodeUpdate, type UpdateMessage } from './messages';
import { decodeRestoreRead, encodeRestoreData, encodeRestoreError, type SnapshotRangeReader } from './restore-messages';

export interface SnapshotRequest {
  id: number;
  volumes: string[];
  name: string;
  barrier: number;
  /** Replace a snapshot of that name (otherwise one is refused with LSA_ALREADY_EXISTS). */
  replace?: boolean;
  /** The primary's --snapshots-max; the secondary keeps the lower of it and its own. */
  snapshotsMax?: number;
}

export interface SnapshotResult {
  id: number;
  name: string;
  volumes: string[];
  location: string;
  seq: number;
  entries: number;
  durationMs: number;
}

/** Takes the snapshot (copies directories) at the moment application is frozen at `barrier`. */
export type SnapshotTaker = (req: SnapshotRequest) => Promise<SnapshotResult>;

export interface SecondaryOptions {
  host: string;
  port: number;
  key: Buffer;
  log: Logger;
  takeSnapshot?: SnapshotTaker;
  /** Serves RESTORE_READ (the snapshot store's ranges). */
  readSnapshot?: SnapshotRangeReader;
  /** TLS-PSK on the link (default true; --replica-tls off for measurements only: both ends
   * must agree). */
  tls?: boolean;
  /** The bounds on unauthenticated connections (default HANDSHAKES_MAX, HANDSHAKE_TIMEOUT_MS). */
  limits?: GateLimits;
  /** The network (default: TCP) and time (default: the real timers); a simulation passes its
   * own. */
  transport?: Transport;
  timers?: Timers;
  /** Random bytes for the handshake's nonces (default: crypto.randomBytes). */
  random?: (bytes: number) => Buffer;
}

/** UPDATE bytes stored but not yet durable before the data mover stops reading frames until a
 * flush catches up: bounds the memory of segments waiting to be written when updates arrive
 * faster than the disks. */
export const UNFLUSHED_BYTES_MAX = 32 * 1024 * 1024;
/** An APPLIED with no RECEIVED to share a flush with waits this long for UPDATEs on their
 * way (under load the next writes follow a COMMIT within milliseconds), so one fsync answers
 * both: measured, this saves a third of the secondary's commits under sync 1 MiB writes. */
export const APPLIED_WAIT_MS = 20;
/** Before a sync acknowledgement, how long a frame already partly received may delay the
 * flush (so that a burst of large UPDATEs costs one flush, not two). */
export const RECEIVE_GATHER_MS_MAX = 20;
/** How long a snapshot request waits for the updates up to its barrier to arrive. */
export const BARRIER_WAIT_MS = 60_000;
/** Meta keys: applied watermarks per volume name, and the primary array they are about. */
const META_APPLIED = 'replicaApplied';
const META_PRIMARY = 'replicaPrimary';

interface Session {
  link: FramedSocket;
  /** Counted and timed by the gate until the primary authenticates. */
  handshake: Handshake;
  stage: 'hello' | 'auth' | 'ready';
  primaryNonce: string;
  secondaryNonce: string;
  /** The primary's array id from HELLO ('' from a build that does not send it). */
  primaryArrayId: string;
  /** The primary runs async (HELLO says so): acknowledgements may wait (asyncAckDelay). */
  lazyAcks: boolean;
  /** When the last UPDATE was stored. */
  lastUpdateMs: number;
  /** Ends an async acknowledgement delay early (enough bytes arrived). */
  wakeAck: (() => void) | null;
  volumes: Map<number, VolumeState>;
  updates: number;
  acked: number;
  flushing: boolean;
  /** APPLIED answers waiting for a flush that covers their application. */
  appliedReplies: { through: number; volumes: string[] }[];
  /** UPDATE payload bytes stored in this session, and how many of them a flush covered. */
  storedBytes: number;
  durableBytes: number;
  committedThrough: number;
  peer: string;
}

export class SecondaryServer {
  private listener: Listener | null = null;
  private session: Session | null = null;
  private readonly gate: HandshakeGate;
  private readonly security: LinkSecurity;
  private readonly timers: Timers;
  private readonly transport: Transport;
  /** Applied watermark per volume name: every update of the primary up to it is applied. */
  readonly applied = new Map<string, number>();
  /** Application stops at this sequence while a snapshot is being taken. */
  /** Barriers of the snapshots asked for and not yet taken: application stops at the lowest. */
  private holds: number[] = [];

  private get hold(): number {
    return this.holds.length > 0 ? Math.min(...this.holds) : Infinity;
  }
  private snapshotQueue: Promise<unknown> = Promise.resolve();
  /** Restore reads run one at a time, beside the frame chain (updates are not held up). */
  private restoreQueue: Promise<unknown> = Promise.resolve();

  /** The primary array the watermarks belong to ('' if unknown). */
  private primaryArrayId = '';

  constructor(readonly engine: LsaEngine, readonly opts: SecondaryOptions) {
    this.timers = opts.timers ?? realTimers;
    this.transport = opts.transport ?? tcpTransport;
    this.security = { tls: opts.tls ?? true, keys: linkKeys(opts.key) };
    this.gate = new HandshakeGate(this.timers, opts.log, opts.limits);
    const meta = engine.nvram.meta();
    const saved = meta.get(META_APPLIED);
    if (saved) for (const [k, v] of Object.entries(JSON.parse(saved) as Record<string, number>)) this.applied.set(k, v);
    this.primaryArrayId = meta.get(META_PRIMARY) ?? '';
  }

  /** Puts the watermarks into the next commit. */
  private saveWatermarks(): void {
    this.engine.setCommitMeta(META_APPLIED, JSON.stringify(Object.fromEntries(this.applied)));
    this.engine.setCommitMeta(META_PRIMARY, this.primaryArrayId);
    this.engine.markChanged();
  }

  async listen(): Promise<{ host: string; port: number }> {
    this.listener = await this.transport.listen({ host: this.opts.host, port: this.opts.port }, (stream) => this.accept(stream));
    const addr = this.listener.address;
    this.opts.log.info('replica link listening', { address: `${addr.host}:${addr.port}`, tls: this.security.tls ? 'psk' : 'off' });
    return addr;
  }

  async close(): Promise<void> {
    await this.listener?.close();
    this.listener = null;
    this.gate.closeAll('secondary shutting down');
    this.session?.link.close('secondary shutting down');
  }

  get connected(): boolean {
    return this.session?.stage === 'ready';
  }

  /** A connection: admitted by the gate (or refused), greeted, secured, then its frames. */
  private accept(stream: ByteStream): void {
    const hs = this.gate.admit(stream);
    if (!hs) return;
    greetAsSecondary(stream, this.security).then((secured) => {
      if (hs.isOver) {
        secured.destroy(); // the deadline passed during TLS
        return;
      }
      hs.stream = secured;
      this.startSession(hs, secured);
    }, (err: Error) => this.gate.failed(hs, err.message));
  }

  private startSession(hs: Handshake, stream: ByteStream): void {
    const peer = hs.peer;
    const session: Session = {
      link: null as unknown as FramedSocket, handshake: hs, stage: 'hello', primaryNonce: '', secondaryNonce: newNonce(this.opts.random), primaryArrayId: '', lazyAcks: false, lastUpdateMs: 0, wakeAck: null,
      volumes: new Map(), updates: 0, acked: 0, flushing: false, appliedReplies: [], storedBytes: 0, durableBytes: 0, committedThrough: 0, peer,
    };
    session.link = new FramedSocket(stream, this.timers, (f) => this.onFrame(session, f), (reason) => {
      if (session.stage === 'ready') this.opts.log.info('primary disconnected', { peer, reason });
      else this.gate.failed(hs, reason);
      if (this.session === session) this.session = null;
    }, PREAUTH_PAYLOAD_MAX);
    hs.link = session.link;
  }

  private onFrame(s: Session, f: Frame): Promise<void> | void {
    if (s.stage !== 'ready') return this.onHandshake(s, f);
    switch (f.type) {
      case MSG.VOLUME: return this.onVolume(s, f.payload);
      case MSG.UPDATE: return this.onUpdate(s, f.payload);
      case MSG.COMMIT: return this.onCommit(s, f.payload);
      case MSG.SNAPSHOT: return this.onSnapshot(s, f.payload);
      case MSG.RESTORE_READ: return this.onRestoreRead(s, f.payload);
      default: throw new ProtocolError(`unexpected message type ${f.type}`);
    }
  }

  private async onHandshake(s: Session, f: Frame): Promise<void> {
    if (s.stage === 'hello') {
      if (f.type !== MSG.HELLO) throw new ProtocolError(`expected HELLO, got message type ${f.type}`);
      const hello = decodeJson<{ protocol: number; role: string; nonce: string; arrayId?: unknown; mode?: unknown }>(f.payload, 'HELLO', { protocol: 'number', role: 'string', nonce: 'string' });
      if (hello.protocol !== PROTOCOL_VERSION_JSON) throw new ProtocolError(`the primary speaks protocol ${hello.protocol}, this secondary ${PROTOCOL_VERSION_JSON}`);
      if (hello.role !== 'primary' || !validNonce(hello.nonce)) throw new ProtocolError('HELLO is malformed');
      s.primaryNonce = hello.nonce;
      s.primaryArrayId = typeof hello.arrayId === 'string' ? hello.arrayId : '';
      s.lazyAcks = hello.mode === 'async';
      // only a nonce: the secondary proves nothing to a peer that has not proved itself
      s.link.sendJson(MSG.CHALLENGE, { nonce: s.secondaryNonce });
      s.stage = 'auth';
      return;
    }
    if (s.stage === 'auth') {
      if (f.type !== MSG.AUTH) throw new ProtocolError(`expected AUTH, got message type ${f.type}`);
      const auth = decodeJson<{ proof: string }>(f.payload, 'AUTH', { proof: 'string' });
      const binding = s.link.stream.channelBinding();
      const { macKey } = this.security.keys;
      if (!proofMatches(proof(macKey, 'primary', s.primaryNonce, s.secondaryNonce, binding), auth.proof)) {
        // logged once by the close handler ("primary refused")
        throw new AuthenticationError('authentication failed: the primary\'s replication key does not match this secondary\'s (check --key-file on both ends)');
      }
      if (this.session && this.session !== s) this.session.link.close('replaced by a new primary connection');
      this.session = s;
      this.gate.succeeded(s.handshake);
      s.link.authenticated();
      s.stage = 'ready';
      // whatever was pending from an earlier connection is resent by the primary's resync
      const dropped = dropPending(this.engine);
      const adopted = this.adoptPrimary(s);
      if (dropped > 0 || adopted) await this.engine.flush();
      s.link.sendJson(MSG.READY, { proof: proof(macKey, 'secondary', s.primaryNonce, s.secondaryNonce, binding), arrayId: this.engine.array.arrayId, trackBytes: this.engine.layout.trackBytes });
      this.opts.log.info('primary authenticated', { peer: s.peer, droppedPending: dropped });
    }
  }

  /** The watermarks speak of one primary array's sequences: another array (re-created, or a
   * different one with the same key) starts from nothing. Returns true if meta changed. */
  private adoptPrimary(s: Session): boolean {
    if (!s.primaryArrayId || s.primaryArrayId === this.primaryArrayId) return false;
    if (this.primaryArrayId && this.applied.size > 0) {
      this.opts.log.warn('a different primary array connected: its volumes are copied in full', { was: this.primaryArrayId, now: s.primaryArrayId });
      this.applied.clear();
    }
    this.primaryArrayId = s.primaryArrayId;
    this.saveWatermarks();
    return true;
  }

  private async onVolume(s: Session, payload: Buffer): Promise<void> {
    const req = decodeJson<{ id: number; name: string; capacityBytes: number; trackBytes: number }>(payload, 'VOLUME', {
      id: 'number', name: 'string', capacityBytes: 'number', trackBytes: 'number',
    });
    const tb = this.engine.layout.trackBytes;
    let v = this.engine.volumesByName.get(req.name);
    let error: string | null = null;
    if (req.trackBytes !== tb) {
      error = `track size differs: the primary uses ${req.trackBytes} bytes, this secondary ${tb}; make the secondary with lsa init --track-size ${req.trackBytes}`;
    } else if (v && v.row.capacityBytes !== req.capacityBytes) {
      error = `volume ${req.name} exists on the secondary with capacity ${v.row.capacityBytes} bytes, not ${req.capacityBytes}; remove or rename it there`;
    } else if (!v) {
      try {
        v = await createVolume(this.engine, req.name, req.capacityBytes, 'none');
        this.opts.log.info('created volume for the pair', { volume: req.name, capacityBytes: req.capacityBytes });
      } catch (err) {
        if (!(err instanceof AlreadyExistsError)) error = `cannot create volume ${req.name} on the secondary: ${(err as Error).message}`;
        v = this.engine.volumesByName.get(req.name);
      }
    }
    if (error || !v) {
      this.opts.log.error('volume refused', { volume: req.name, error });
      s.link.sendJson(MSG.VOLUME_OK, { name: req.name, error: error ?? 'unknown error' });
      return;
    }
    const appliedSeq = this.applied.get(req.name) ?? 0;
    if (appliedSeq === 0 && forgetContent(this.engine, v) > 0) {
      // a full copy follows; tracks the primary never wrote must read as zeros here too,
      // not as whatever an earlier volume of this name held
      this.opts.log.warn('volume held data this pair never applied: cleared for the full copy', { volume: req.name });
      await this.engine.flush();
    }
    s.volumes.set(req.id, v);
    s.link.sendJson(MSG.VOLUME_OK, { name: req.name, appliedSeq });
  }

  /** Stores an UPDATE as pending records. Synchronous while the array has room and the disks
   * keep up: most UPDATEs cost no promise. */
  private onUpdate(s: Session, payload: Buffer): Promise<void> | void {
    const u = decodeUpdate(payload, this.engine.layout.trackBytes);
    const v = s.volumes.get(u.volumeId);
    if (!v) throw new ProtocolError(`UPDATE for volume id ${u.volumeId}, which this session never announced`);
    if (u.track + u.count > v.tracks) throw new ProtocolError(`UPDATE of tracks ${u.track}+${u.count} is past the end of volume ${v.row.name}`);
    u.volumeId = v.row.id;
    if (!pendingFits(this.engine, u.count, u.kind === 'write')) return this.storeAfterRoom(s, u, payload.length);
    return this.store(s, u, payload.length);
  }

  private async storeAfterRoom(s: Session, u: UpdateMessage, payloadBytes: number): Promise<void> {
    await roomForPending(this.engine, u.count, u.kind === 'write');
    if (s.link.isClosed) return; // the collector took a while; this session is over
    await this.store(s, u, payloadBytes);
  }

  private store(s: Session, u: UpdateMessage, payloadBytes: number): Promise<void> | void {
    const flags = u.kind === 'trim' ? RECORD_FLAG_TRIM : u.kind === 'zero' ? RECORD_FLAG_ZERO : 0;
    storePending(this.engine, u, flags);
    s.updates++;
    s.storedBytes += payloadBytes;
    s.lastUpdateMs = this.timers.nowMs();
    this.engine.markChanged();
    if (!s.flushing) this.acknowledge(s).catch((err: unknown) => s.link.fail(err));
    if (s.wakeAck && (!s.lazyAcks || s.storedBytes - s.durableBytes >= ASYNC_ACK_BYTES)) s.wakeAck();
    if (s.storedBytes - s.durableBytes > UNFLUSHED_BYTES_MAX) return this.catchUpFlush(s);
  }

  /** The disks fall behind the link: stop reading frames until a flush catches up. */
  private async catchUpFlush(s: Session): Promise<void> {
    const upTo = s.storedBytes;
    await this.engine.flush();
    s.durableBytes = Math.max(s.durableBytes, upTo);
  }

  /** One flush at a time answers both kinds of acknowledgement: a RECEIVED covers every UPDATE
   * stored before its flush began, an APPLIED every COMMIT applied before it began (a group
   * commit: one fsync acknowledges everything that arrived during the last one). */
  private async acknowledge(s: Session): Promise<void> {
    if (s.flushing) return;
    s.flushing = true;
    try {
      while ((s.acked < s.updates || s.appliedReplies.length > 0) && !s.link.isClosed) {
        if (s.lazyAcks) await asyncAckDelay(this.timers, s);
        else {
          if (s.acked === s.updates) await ackDelay(this.timers, s, APPLIED_WAIT_MS);
          // the rest of a burst that arrived in the same read is stored by now (the frames of
          // a read are handled in one pass), and a frame half received is waited for
          // (briefly), so one flush acknowledges the whole burst
          const until = this.timers.nowMs() + RECEIVE_GATHER_MS_MAX;
          do await sleep(this.timers, 0);
          while (s.link.receiving && this.timers.nowMs() < until);
        }
        const upTo = s.updates;
        const bytes = s.storedBytes;
        const replies = s.appliedReplies.splice(0);
        await this.engine.flush();
        if (upTo > s.acked) s.link.sendJson(MSG.RECEIVED, { updates: upTo });
        s.acked = Math.max(s.acked, upTo);
        s.durableBytes = Math.max(s.durableBytes, bytes);
        for (const r of replies) s.link.sendJson(MSG.APPLIED, r);
      }
    } finally {
      s.flushing = false;
    }
  }

  private onCommit(s: Session, payload: Buffer): void {
    const c = decodeJson<{ through: number; synced: string[] }>(payload, 'COMMIT', { through: 'number', synced: 'object' });
    if (!Array.isArray(c.synced) || !c.synced.every((x) => typeof x === 'string')) throw new ProtocolError('COMMIT: synced must be a list of volume names');
    s.committedThrough = Math.max(s.committedThrough, c.through);
    const limit = Math.min(c.through, this.hold);
    let changed = applyPending(this.engine, limit) > 0;
    for (const name of c.synced) {
      if ((this.applied.get(name) ?? 0) >= limit) continue;
      this.applied.set(name, limit);
      changed = true;
    }
    if (changed) this.saveWatermarks();
    // APPLIED only once the application is durable, by the flush that also answers the UPDATEs
    // behind this COMMIT; the frame chain does not wait for it. A heartbeat COMMIT that changes
    // nothing costs no commit.
    s.appliedReplies.push({ through: limit, volumes: c.synced });
    if (!s.flushing) this.acknowledge(s).catch((err: unknown) => s.link.fail(err));
  }

  private onSnapshot(s: Session, payload: Buffer): void {
    const req = decodeJson<SnapshotRequest>(payload, 'SNAPSHOT', { id: 'number', volumes: 'object', name: 'string', barrier: 'number' });
    // freeze at the barrier now, while the frames are handled in order: a COMMIT that follows
    // this request must not apply past it
    this.holds.push(req.barrier);
    this.snapshotQueue = this.snapshotQueue.then(() => this.takeAtBarrier(s, req)).catch(() => undefined);
  }

  private onRestoreRead(s: Session, payload: Buffer): void {
    const req = decodeRestoreRead(payload);
    const reader = this.opts.readSnapshot;
    this.restoreQueue = this.restoreQueue.then(async () => {
      try {
        if (!reader) throw new Error('this secondary serves no snapshots');
        s.link.send(MSG.RESTORE_DATA, encodeRestoreData(await reader(req)));
      } catch (err) {
        s.link.send(MSG.RESTORE_DATA, encodeRestoreError(req.id, (err as Error).message, err instanceof LsaError ? err.code : undefined));
      }
    });
  }

  private async takeAtBarrier(s: Session, req: SnapshotRequest): Promise<void> {
    const t0 = this.timers.nowMs();
    try {
      if (!this.opts.takeSnapshot) throw new Error('this secondary takes no snapshots');
      // wait until every update up to the barrier has arrived and is durable on the primary
      const deadline = t0 + BARRIER_WAIT_MS;
      while (s.committedThrough < req.barrier) {
        if (s.link.isClosed || this.timers.nowMs() > deadline) throw new Error(`updates up to sequence ${req.barrier} never arrived`);
        await sleep(this.timers, 5);
      }
      applyPending(this.engine, req.barrier);
      await this.engine.flush();
      const result = await this.opts.takeSnapshot(req);
      s.link.sendJson(MSG.SNAPSHOT_DONE, { ...result, durationMs: this.timers.nowMs() - t0 });
    } catch (err) {
      // the code lets the primary answer with the same typed error (409 exists, 429 limit...)
      s.link.sendJson(MSG.SNAPSHOT_DONE, { id: req.id, error: (err as Error).message, ...(err instanceof LsaError ? { code: err.code } : {}) });
    } finally {
      const at = this.holds.indexOf(req.barrier);
      if (at >= 0) this.holds.splice(at, 1);
      // resume: apply what arrived meanwhile and is committed on the primary (up to the next
      // snapshot's barrier, if another one waits)
      applyPending(this.engine, Math.min(s.committedThrough, this.hold));
      this.engine.markChanged();
    }
  }
}
