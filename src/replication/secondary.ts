// The secondary subsystem's side of the remote copy: the data mover. It authenticates the
// primary, creates missing volumes, stores every UPDATE as records in its own LSA at once
// (listed in the write-pending directory, durable before it says RECEIVED), and applies them
// to the volume directories in sequence order when the primary's COMMIT says they are durable
// there too. A snapshot request freezes application at its barrier until the snapshot is
// taken; updates keep arriving meanwhile.

import * as net from 'node:net';
import { AlreadyExistsError, ProtocolError } from '../errors';
import type { LsaEngine, VolumeState } from '../lsa/engine';
import { applyPending, dropPending, storePending } from '../lsa/pending';
import { RECORD_FLAG_TRIM, RECORD_FLAG_ZERO } from '../lsa/record-format';
import { createVolume } from '../lsa/volumes';
import type { Logger } from '../util/log';
import { newNonce, proof, proofMatches, validNonce } from './auth';
import { FramedSocket } from './framed-socket';
import type { Frame } from './frame';
import { MSG, PROTOCOL_VERSION_JSON, decodeJson, decodeUpdate } from './messages';

export interface SnapshotRequest {
  id: number;
  volumes: string[];
  name: string;
  barrier: number;
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
}

interface Session {
  link: FramedSocket;
  stage: 'hello' | 'auth' | 'ready';
  primaryNonce: string;
  secondaryNonce: string;
  volumes: Map<number, VolumeState>;
  updates: number;
  acked: number;
  flushing: boolean;
  committedThrough: number;
  peer: string;
}

export class SecondaryServer {
  private server: net.Server | null = null;
  private session: Session | null = null;
  /** Applied watermark per volume name: every update of the primary up to it is applied. */
  readonly applied = new Map<string, number>();
  /** Application stops at this sequence while a snapshot is being taken. */
  private hold = Infinity;
  private snapshotQueue: Promise<unknown> = Promise.resolve();

  constructor(readonly engine: LsaEngine, readonly opts: SecondaryOptions) {
    const saved = engine.nvram.meta().get('replicaApplied');
    if (saved) for (const [k, v] of Object.entries(JSON.parse(saved) as Record<string, number>)) this.applied.set(k, v);
  }

  async listen(): Promise<{ host: string; port: number }> {
    this.server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.opts.port, this.opts.host, () => resolve());
    });
    const addr = this.server.address() as net.AddressInfo;
    this.opts.log.info('replica link listening', { address: `${addr.address}:${addr.port}` });
    return { host: addr.address, port: addr.port };
  }

  async close(): Promise<void> {
    this.session?.link.close('secondary shutting down');
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  get connected(): boolean {
    return this.session?.stage === 'ready';
  }

  private accept(socket: net.Socket): void {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    const session: Session = {
      link: null as unknown as FramedSocket, stage: 'hello', primaryNonce: '', secondaryNonce: newNonce(),
      volumes: new Map(), updates: 0, acked: 0, flushing: false, committedThrough: 0, peer,
    };
    session.link = new FramedSocket(socket, (f) => this.onFrame(session, f), (reason) => {
      this.opts.log.info('primary disconnected', { peer, reason });
      if (this.session === session) this.session = null;
    });
    this.opts.log.info('primary connecting', { peer });
  }

  private async onFrame(s: Session, f: Frame): Promise<void> {
    if (s.stage === 'hello') {
      if (f.type !== MSG.HELLO) throw new ProtocolError(`expected HELLO, got message type ${f.type}`);
      const hello = decodeJson<{ protocol: number; role: string; nonce: string }>(f.payload, 'HELLO', { protocol: 'number', role: 'string', nonce: 'string' });
      if (hello.protocol !== PROTOCOL_VERSION_JSON) throw new ProtocolError(`the primary speaks protocol ${hello.protocol}, this secondary ${PROTOCOL_VERSION_JSON}`);
      if (hello.role !== 'primary' || !validNonce(hello.nonce)) throw new ProtocolError('HELLO is malformed');
      s.primaryNonce = hello.nonce;
      s.link.sendJson(MSG.CHALLENGE, { nonce: s.secondaryNonce, proof: proof(this.opts.key, 'secondary', s.primaryNonce, s.secondaryNonce) });
      s.stage = 'auth';
      return;
    }
    if (s.stage === 'auth') {
      if (f.type !== MSG.AUTH) throw new ProtocolError(`expected AUTH, got message type ${f.type}`);
      const auth = decodeJson<{ proof: string }>(f.payload, 'AUTH', { proof: 'string' });
      if (!proofMatches(proof(this.opts.key, 'primary', s.primaryNonce, s.secondaryNonce), auth.proof)) {
        this.opts.log.warn('primary refused: wrong replication key', { peer: s.peer });
        throw new ProtocolError('authentication failed: the primary\'s replication key does not match this secondary\'s (check --key-file on both ends)');
      }
      if (this.session && this.session !== s) this.session.link.close('replaced by a new primary connection');
      this.session = s;
      s.stage = 'ready';
      // whatever was pending from an earlier connection is resent by the primary's resync
      const dropped = dropPending(this.engine);
      if (dropped > 0) await this.engine.flush();
      s.link.sendJson(MSG.READY, { arrayId: this.engine.array.arrayId, trackBytes: this.engine.layout.trackBytes });
      this.opts.log.info('primary authenticated', { peer: s.peer, droppedPending: dropped });
      return;
    }
    switch (f.type) {
      case MSG.VOLUME: return this.onVolume(s, f.payload);
      case MSG.UPDATE: return this.onUpdate(s, f.payload);
      case MSG.COMMIT: return this.onCommit(s, f.payload);
      case MSG.SNAPSHOT: return this.onSnapshot(s, f.payload);
      default: throw new ProtocolError(`unexpected message type ${f.type}`);
    }
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
    s.volumes.set(req.id, v);
    s.link.sendJson(MSG.VOLUME_OK, { name: req.name, appliedSeq: this.applied.get(req.name) ?? 0 });
  }

  private async onUpdate(s: Session, payload: Buffer): Promise<void> {
    const u = decodeUpdate(payload, this.engine.layout.trackBytes);
    const v = s.volumes.get(u.volumeId);
    if (!v) throw new ProtocolError(`UPDATE for volume id ${u.volumeId}, which this session never announced`);
    if (u.track + u.count > v.tracks) throw new ProtocolError(`UPDATE of tracks ${u.track}+${u.count} is past the end of volume ${v.row.name}`);
    const flags = u.kind === 'trim' ? RECORD_FLAG_TRIM : u.kind === 'zero' ? RECORD_FLAG_ZERO : 0;
    storePending(this.engine, { ...u, volumeId: v.row.id }, flags);
    s.updates++;
    this.engine.markChanged();
    void this.ackReceived(s);
  }

  /** One flush at a time; each RECEIVED covers every UPDATE stored before its flush began. */
  private async ackReceived(s: Session): Promise<void> {
    if (s.flushing) return;
    s.flushing = true;
    try {
      while (s.acked < s.updates && !s.link.isClosed) {
        const upTo = s.updates;
        await this.engine.flush();
        s.acked = upTo;
        s.link.sendJson(MSG.RECEIVED, { updates: upTo });
      }
    } finally {
      s.flushing = false;
    }
  }

  private async onCommit(s: Session, payload: Buffer): Promise<void> {
    const c = decodeJson<{ through: number; synced: string[] }>(payload, 'COMMIT', { through: 'number', synced: 'object' });
    if (!Array.isArray(c.synced) || !c.synced.every((x) => typeof x === 'string')) throw new ProtocolError('COMMIT: synced must be a list of volume names');
    s.committedThrough = Math.max(s.committedThrough, c.through);
    const limit = Math.min(c.through, this.hold);
    applyPending(this.engine, limit);
    for (const name of c.synced) this.applied.set(name, Math.max(this.applied.get(name) ?? 0, limit));
    this.engine.extraMeta.replicaApplied = JSON.stringify(Object.fromEntries(this.applied));
    this.engine.markChanged();
    await this.engine.flush();
    s.link.sendJson(MSG.APPLIED, { through: limit, volumes: c.synced });
  }

  private async onSnapshot(s: Session, payload: Buffer): Promise<void> {
    const req = decodeJson<SnapshotRequest>(payload, 'SNAPSHOT', { id: 'number', volumes: 'object', name: 'string', barrier: 'number' });
    this.snapshotQueue = this.snapshotQueue.then(() => this.takeAtBarrier(s, req)).catch(() => undefined);
  }

  private async takeAtBarrier(s: Session, req: SnapshotRequest): Promise<void> {
    const t0 = Date.now();
    try {
      if (!this.opts.takeSnapshot) throw new Error('this secondary takes no snapshots');
      // wait until every update up to the barrier has arrived and is durable on the primary
      const deadline = Date.now() + 60_000;
      while (s.committedThrough < req.barrier) {
        if (s.link.isClosed || Date.now() > deadline) throw new Error(`updates up to sequence ${req.barrier} never arrived`);
        await new Promise((r) => setTimeout(r, 5));
      }
      this.hold = req.barrier;
      applyPending(this.engine, req.barrier);
      await this.engine.flush();
      const result = await this.opts.takeSnapshot(req);
      s.link.sendJson(MSG.SNAPSHOT_DONE, { ...result, durationMs: Date.now() - t0 });
    } catch (err) {
      s.link.sendJson(MSG.SNAPSHOT_DONE, { id: req.id, error: (err as Error).message });
    } finally {
      this.hold = Infinity;
      // resume: apply what arrived meanwhile and is committed on the primary
      applyPending(this.engine, s.committedThrough);
      this.engine.markChanged();
    }
  }
}
