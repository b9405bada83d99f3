// The primary subsystem's side of the remote copy. Every host update gets its write sequence
// token from the engine (sequence + timestamp) and is shipped to the secondary at once. After
// each local commit a COMMIT tells the secondary which sequences are durable here, so it never
// applies an update the primary could still lose in a crash.
//
// After any (re)connection each volume is brought back by a resync that needs no log: the
// out-of-sync tracks are those whose directory sequence is above what the secondary has
// applied. The scan ships their current content, live updates flow beside it, and the pair is
// duplex again once the secondary has applied past the point where the scan began.
//
// Modes: sync (a host write completes once the secondary has the update durably pending) and
// async (completes after the local commit; shipping runs behind, bounded by --lag-max: past the
// bound the volume stops shipping and falls back to resync, so the host never blocks).

import { AuthenticationError, ProtocolError } from '../errors';
import { realTimers, sleep, type Cancel, type Timers } from '../io/timers';
import { tcpTransport } from '../io/tcp-transport';
import type { Transport } from '../io/transport';
import type { UpdateSource } from '../lsa/engine-ports';
import type { VolumeState } from '../lsa/volume-state';
import type { UpdateEvent, UpdateListener } from '../lsa/engine-hooks';
import type { Logger } from '../util/log';
import { linkKeys } from './auth';
import { FramedSocket, SEND_BUFFER_HIGH_BYTES } from './framed-socket';
import type { Frame } from './frame';
import { HANDSHAKE_TIMEOUT_MS } from './handshake-gate';
import { LinkAttempt, type ReadyInfo } from './link-attempt';
import type { LinkSecurity } from './link-greeting';
import { MSG, decodeJson, encodeUpdateHeader } from './messages';
import { OutOfSyncTracks } from './out-of-sync';
import { ScanBatch } from './scan-batch';
import { assertPairTransition, type PairState } from './pair-state';
import type { RestoreChunk, RestoreRead } from './restore-messages';
import { RestoreRequests } from './restore-requests';

export type ReplicationMode = 'sync' | 'async';

export interface PrimaryOptions {
  host: string;
  port: number;
  key: Buffer;
  mode: ReplicationMode;
  /** Bytes shipped but not yet acknowledged before an async volume falls back to resync. */
  lagMaxBytes: number;
  log: Logger;
  reconnectMs?: number;
  /** Silence from the secondary (no frame at all) after which the link is given up. */
  linkTimeoutMs?: number;
  /** TLS-PSK on the link (default true; --replica-tls off for measurements only: both ends
   * must agree). */
  tls?: boolean;
  /** From connecting to an authenticated secondary, at most (default HANDSHAKE_TIMEOUT_MS). */
  handshakeTimeoutMs?: number;
  /** The network (default: TCP) and time (default: the real timers); a simulation passes its
   * own. */
  transport?: Transport;
  timers?: Timers;
  /** Random bytes for the handshake's nonces (default: crypto.randomBytes). */
  random?: (bytes: number) => Buffer;
}

/** An idle link carries a COMMIT (answered by APPLIED) at least this often, so that silence
 * means a stuck or unreachable secondary rather than nothing to say. */
export const HEARTBEAT_MS = 1000;
/** Default for linkTimeoutMs: a secondary that keeps the TCP connection open but answers
 * nothing (stopped process, wedged disk) is dropped after this, which releases sync writes. */
export const LINK_TIMEOUT_MS = 10_000;
/** On a clean stop, how long the primary waits for the secondary to apply its last commit. */
export const STOP_DRAIN_MS = 5000;

export interface PairStatus {
  volume: string;
  state: PairState;
  mode: ReplicationMode;
  lagSeq: number;
  lagBytes: number;
  outOfSyncTracks: number;
  lastAppliedSeq: number;
  copyProgress: number;
  tracking: boolean;
  error: string | null;
  bytesShipped: number;
}

export interface Pair {
  v: VolumeState;
  state: PairState;
  applied: number;
  lastSeq: number;
  scanning: boolean;
  scanFrom: number;
  scanUpTo: number;
  scanDone: number;
  synced: boolean;
  /** Updates were not shipped (lag bound or link trouble): a new scan is needed. */
  dirty: boolean;
  /** A resync waits for the socket to drain (after the lag bound was hit). */
  drainWaiting: boolean;
  /** Tracks the lag bound kept back on this link. */
  skipped: OutOfSyncTracks;
  error: string | null;
  bytesShipped: number;
}

interface Waiter {
  frames: number;
  resolve: () => void;
  /** When the write started waiting (a write waits at most the link timeout). */
  sinceMs: number;
}

/** Data bytes in one UPDATE frame (well under the frame limit). */
const UPDATE_DATA_MAX = 1024 * 1024;

/** Sync writes waiting at once from which the primary commits locally while they wait. With
 * 32 writes in flight and a flush after them this raised IOPS ~20% (the two commits overlap);
 * with one write at a time and no flushes it cost ~25% (a commit per write that the host never
 * asked for), so a lone waiting write does not trigger it. */
const EARLY_COMMIT_WAITERS_MIN = 4;
/** Scan frames between COMMITs during a resync, so the secondary applies as it goes. */
const SCAN_COMMIT_EVERY = 256;
/** Async: the COMMITs of the local commits within this long go out as one. Nothing on the
 * primary waits for the secondary to apply, and each COMMIT cost the secondary a JSON parse,
 * an application pass and an APPLIED answer: with a flush every 32 writes, 128 of them per
 * 4096 writes. */
export const ASYNC_COMMIT_COALESCE_MS = 20;

export class PrimaryReplicator implements UpdateListener {
  readonly pairs = new Map<number, Pair>();
  private link: FramedSocket | null = null;
  private ready = false;
  private stopped = false;
  private updateFrames = 0;
  private receivedFrames = 0;
  private waiters: Waiter[] = [];
  private committedThrough = 0;
  private reconnectTimer: Cancel | null = null;
  private watchdog: Cancel | null = null;
  private commitTimer: Cancel | null = null;
  /** The current connection, from connecting until it closes (link is set once it is up). */
  private attempt: LinkAttempt | null = null;
  private readonly security: LinkSecurity;
  private localCommitScheduled = false;
  private lastError: string | null = null;
  private snapshotWaiters = new Map<number, (r: Record<string, unknown>) => void>();
  private snapshotIds = 0;
  private readonly restores: RestoreRequests;
  readonly timers: Timers;
  private readonly transport: Transport;

  constructor(readonly engine: UpdateSource, readonly opts: PrimaryOptions) {
    this.timers = opts.timers ?? realTimers;
    this.transport = opts.transport ?? tcpTransport;
    this.restores = new RestoreRequests(this.timers);
    this.security = { tls: opts.tls ?? true, keys: linkKeys(opts.key) };
    for (const v of engine.volumesById.values()) this.addPair(v);
    this.committedThrough = engine.nextSeq - 1;
  }

  private addPair(v: VolumeState): Pair {
    const pair: Pair = {
      v, state: 'simplex', applied: 0, lastSeq: 0, scanning: false, scanFrom: 0, scanUpTo: 0, scanDone: 0,
      synced: false, dirty: false, drainWaiting: false, skipped: new OutOfSyncTracks(v.tracks), error: null, bytesShipped: 0,
    };
    this.pairs.set(v.row.id, pair);
    return pair;
  }

  start(): void {
    this.engine.setUpdateListener(this);
    for (const p of this.pairs.values()) this.transition(p, 'suspended');
    const tickMs = Math.min(HEARTBEAT_MS, this.linkTimeoutMs) / 4;
    this.watchdog = this.timers.every(tickMs, () => this.checkLink());
    this.connect();
  }

  /** Clean stop (host I/O has stopped): the last commit is handed to the secondary and, for a
   * short while, waited for, so a pair stopped in duplex comes back with nothing to resync. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    await this.drain(STOP_DRAIN_MS).catch((err: unknown) => this.opts.log.warn('could not hand the last updates to the secondary', { error: (err as Error).message }));
    this.stopped = true;
    this.reconnectTimer?.();
    this.commitTimer?.();
    this.watchdog?.();
    this.attempt?.stop('primary shutting down');
    this.releaseWaiters();
  }

  private async drain(timeoutMs: number): Promise<void> {
    if (!this.ready || !this.link) return;
    await this.engine.flush();
    this.sendCommit();
    const target = this.committedThrough;
    const deadline = this.timers.nowMs() + timeoutMs;
    const behind = (): boolean => [...this.pairs.values()].some((p) => p.synced && !p.dirty && p.applied < target);
    while (this.ready && behind() && this.timers.nowMs() < deadline) await sleep(this.timers, 10);
  }

  private get linkTimeoutMs(): number {
    return this.opts.linkTimeoutMs ?? LINK_TIMEOUT_MS;
  }

  /** Drops a link whose secondary went silent (or never acknowledges), and keeps an idle link
   * busy with a heartbeat COMMIT so that silence can be told from idleness. */
  private checkLink(): void {
    const link = this.link;
    if (!link || link.isClosed) return;
    const now = this.timers.nowMs();
    const limit = this.linkTimeoutMs;
    if (now - link.lastHeardMs > limit) {
      link.fail(new ProtocolError(`the secondary sent nothing for ${limit} ms (stopped, wedged or unreachable); dropping the link`));
      return;
    }
    const oldest = this.waiters[0];
    if (oldest && now - oldest.sinceMs > limit) {
      link.fail(new ProtocolError(`the secondary acknowledged no update for ${limit} ms; dropping the link (waiting writes complete, their tracks are resynced later)`));
      return;
    }
    if (this.ready && now - link.lastSentMs >= HEARTBEAT_MS) this.sendCommit();
  }

  get connected(): boolean {
    return this.ready;
  }

  private transition(p: Pair, to: PairState): void {
    if (p.state === to) return;
    assertPairTransition(p.v.row.name, p.state, to);
    this.opts.log.info('pair state', { volume: p.v.row.name, from: p.state, to });
    p.state = to;
  }

  // ---- connection ----

  /** A new connection (link-attempt.ts: connect, greeting, TLS, handshake, one deadline). */
  private connect(): void {
    if (this.stopped || this.attempt) return;
    const attempt: LinkAttempt = new LinkAttempt({
      address: { host: this.opts.host, port: this.opts.port }, transport: this.transport, timers: this.timers, security: this.security, random: this.opts.random,
      handshakeTimeoutMs: this.opts.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS, hello: { arrayId: this.engine.array.arrayId, mode: this.opts.mode },
    }, {
      ready: (link, info) => this.onReady(link, info),
      frame: (link, f) => this.onFrame(link, f),
      down: (reason, err) => {
        if (this.attempt !== attempt) return;
        this.attempt = null;
        this.linkDown(reason, err);
      },
    });
    this.attempt = attempt;
  }

  private onReady(link: FramedSocket, info: ReadyInfo): void {
    this.link = link;
    this.ready = true;
    this.lastError = null;
    this.updateFrames = 0;
    this.receivedFrames = 0;
    this.opts.log.info('replica link up', { secondary: `${this.opts.host}:${this.opts.port}`, mode: this.opts.mode, tls: this.security.tls ? 'psk' : 'off', trackBytes: info.trackBytes });
    for (const p of this.pairs.values()) {
      link.sendJson(MSG.VOLUME, { id: p.v.row.id, name: p.v.row.name, capacityBytes: p.v.row.capacityBytes, trackBytes: this.engine.layout.trackBytes });
    }
  }

  /** The link is gone (or never came up): everything waiting on it is released, and a new
   * connection is tried after reconnectMs. */
  private linkDown(reason: string, err: unknown): void {
    if (this.ready || reason !== this.lastError) {
      this.opts.log.warn('replica link down', { reason });
      // once per outage, not once per reconnect attempt
      if (err instanceof AuthenticationError) {
        const what = 'peerTls' in err.data ? 'secondary refused: the two ends differ in --replica-tls' : 'secondary refused: it failed authentication (wrong replication key?)';
        this.opts.log.error(what, { secondary: `${this.opts.host}:${this.opts.port}`, reason });
      }
    }
    this.lastError = reason;
    this.ready = false;
    this.link = null;
    for (const p of this.pairs.values()) {
      p.scanning = false; // the scan of the old link sees its link is gone and stops
      p.synced = false;
      p.skipped.reset(); // the next connection's resync from the watermark covers them
      if (p.state !== 'simplex' && p.state !== 'suspended') this.transition(p, 'suspended');
    }
    this.releaseWaiters();
    for (const [id, w] of this.snapshotWaiters) w({ id, error: `replica link lost: ${reason}`, code: 'LSA_UNAVAILABLE' });
    this.snapshotWaiters.clear();
    this.restores.failAll(`replica link lost: ${reason}`);
    if (!this.stopped) {
      this.reconnectTimer = this.timers.after(this.opts.reconnectMs ?? 500, () => {
        this.reconnectTimer = null;
        this.connect();
      });
    }
  }

  /** Sync writes waiting on a link that is gone complete now: their tracks are out of sync,
   * which the next resync repairs. */
  private releaseWaiters(): void {
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  private async onFrame(link: FramedSocket, f: Frame): Promise<void> {
    switch (f.type) {
      case MSG.VOLUME_OK: return this.onVolumeOk(f.payload);
      case MSG.RECEIVED: {
        const r = decodeJson<{ updates: number }>(f.payload, 'RECEIVED', { updates: 'number' });
        this.receivedFrames = Math.max(this.receivedFrames, r.updates);
        while (this.waiters.length > 0 && this.waiters[0].frames <= this.receivedFrames) this.waiters.shift()!.resolve();
        return;
      }
      case MSG.APPLIED: {
        const a = decodeJson<{ through: number; volumes: string[] }>(f.payload, 'APPLIED', { through: 'number', volumes: 'object' });
        for (const p of this.pairs.values()) {
          if (!a.volumes.includes(p.v.row.name)) continue;
          p.applied = Math.max(p.applied, a.through);
          if (p.synced && !p.scanning && p.applied >= p.scanUpTo && (p.state === 'resync' || p.state === 'duplex-pending')) this.transition(p, 'duplex');
        }
        return;
      }
      case MSG.SNAPSHOT_DONE: {
        const d = decodeJson<{ id: number }>(f.payload, 'SNAPSHOT_DONE', { id: 'number' });
        const w = this.snapshotWaiters.get(d.id);
        this.snapshotWaiters.delete(d.id);
        w?.(JSON.parse(f.payload.toString('utf8')) as Record<string, unknown>);
        return;
      }
      case MSG.RESTORE_DATA: return this.restores.onData(f.payload);
      default:
        throw new ProtocolError(`unexpected message type ${f.type}`);
    }
  }

  private onVolumeOk(payload: Buffer): void {
    const r = decodeJson<{ name: string; appliedSeq?: number; error?: string }>(payload, 'VOLUME_OK', { name: 'string' });
    const p = [...this.pairs.values()].find((x) => x.v.row.name === r.name);
    if (!p) return;
    if (r.error) {
      p.error = r.error;
      this.opts.log.error('secondary refused the volume; it stays suspended', { volume: r.name, reason: r.error });
      return;
    }
    p.error = null;
    p.applied = typeof r.appliedSeq === 'number' ? r.appliedSeq : 0;
    this.transition(p, p.applied === 0 ? 'duplex-pending' : 'resync');
    this.startResync(p);
  }

  /** Runs a resync in the background. A failure here (a local read or flush) drops the link:
   * the next connection starts over from what the secondary has applied. */
  private startResync(p: Pair): void {
    this.resync(p).catch((err: unknown) => {
      const message = (err as Error).message;
      this.opts.log.error('resync failed; dropping the link to start over', { volume: p.v.row.name, error: message });
      this.link?.fail(new ProtocolError(`resync of ${p.v.row.name} failed on the primary: ${message}`));
    });
  }

  /** After the async lag bound was hit: once the socket has drained, ship the tracks that were
   * kept back (a scan in progress ships them when it ends). */
  private async resyncAfterDrain(link: FramedSocket, p: Pair): Promise<void> {
    if (p.scanning || p.drainWaiting) return;
    p.drainWaiting = true;
    try {
      await link.drained(this.scanQueueBytes);
    } finally {
      p.drainWaiting = false;
    }
    if (this.link !== link || link.isClosed || p.scanning || !p.dirty) return;
    this.catchUp(p).catch((err: unknown) => {
      this.opts.log.error('catching up failed; dropping the link to start over', { volume: p.v.row.name, error: (err as Error).message });
      this.link?.fail(new ProtocolError(`catching up ${p.v.row.name} failed on the primary: ${(err as Error).message}`));
    });
  }

  /** Bytes a resync scan lets queue in the socket: in async mode well under the lag bound, so
   * live updates beside the scan do not hit it again and again. */
  private get scanQueueBytes(): number {
    return this.opts.mode === 'async' ? Math.min(SEND_BUFFER_HIGH_BYTES, Math.floor(this.opts.lagMaxBytes / 4)) : SEND_BUFFER_HIGH_BYTES;
  }

  // ---- shipping ----

  onUpdate(u: UpdateEvent): Promise<void> | void {
    const p = this.pairs.get(u.volumeId);
    if (!p) return;
    p.lastSeq = Math.max(p.lastSeq, u.kind === 'write' ? u.seq + u.count - 1 : u.seq);
    const link = this.link;
    if (!this.ready || !link || p.state === 'suspended' || p.state === 'simplex' || p.error) return;
    if (this.opts.mode === 'async' && link.queuedBytes > this.opts.lagMaxBytes) {
      // past the lag bound: stop shipping this volume and fall back to a resync from the
      // directory, rather than make the host wait
      if (!p.dirty) this.opts.log.warn('lag bound hit: tracking out-of-sync tracks instead of shipping', { volume: p.v.row.name });
      p.dirty = true;
      p.synced = false;
      p.skipped.mark(u.track, u.count);
      if (p.state === 'duplex') this.transition(p, 'resync');
      void this.resyncAfterDrain(link, p);
      return;
    }
    this.ship(link, p, u);
    p.skipped.clear(u.track, u.count); // its latest content is on its way
    if (this.opts.mode === 'sync') {
      const frames = this.updateFrames;
      const done = new Promise<void>((resolve) => this.waiters.push({ frames, resolve, sinceMs: this.timers.nowMs() }));
      if (this.waiters.length >= EARLY_COMMIT_WAITERS_MIN) this.scheduleLocalCommit();
      return done;
    }
  }

  /** While several sync writes wait for the secondary's flush, the local commit runs at the
   * same time (once per burst), so the host's flush that follows finds little left to do. */
  private scheduleLocalCommit(): void {
    if (this.localCommitScheduled) return;
    this.localCommitScheduled = true;
    this.timers.after(0, () => {
      this.localCommitScheduled = false;
      this.engine.flush().catch(() => undefined); // a failure shows in the host's own flush
    });
  }

  /** One UPDATE frame per piece of at most UPDATE_DATA_MAX bytes: a long write's tracks carry
   * consecutive sequences, so its pieces are updates of their own. */
  private ship(link: FramedSocket, p: Pair, u: Omit<UpdateEvent, 'volumeId'>): void {
    const tb = this.engine.layout.trackBytes;
    const perFrame = u.kind === 'write' ? Math.max(1, Math.floor(UPDATE_DATA_MAX / tb)) : u.count;
    for (let done = 0; done < u.count; done += perFrame) {
      const n = Math.min(perFrame, u.count - done);
      const head = encodeUpdateHeader({
        volumeId: p.v.row.id, kind: u.kind, track: u.track + done, count: n, seq: u.kind === 'write' ? u.seq + done : u.seq, timestampMs: u.timestampMs,
      });
      const data = u.data ? u.data.subarray(done * tb, (done + n) * tb) : null;
      link.sendParts(MSG.UPDATE, data ? [head, data] : [head]);
      this.updateFrames++;
      p.bytesShipped += data ? data.length : 0;
    }
  }

  onCommit(committedBefore: number): void {
    this.committedThrough = Math.max(this.committedThrough, committedBefore - 1);
    if (this.opts.mode === 'sync') this.sendCommit();
    else if (!this.commitTimer) {
      this.commitTimer = this.timers.after(ASYNC_COMMIT_COALESCE_MS, () => {
        this.commitTimer = null;
        this.sendCommit(); // the latest committedThrough
      });
    }
  }

  private sendCommit(): void {
    if (!this.ready || !this.link) return;
    const synced = [...this.pairs.values()].filter((p) => p.synced && !p.dirty).map((p) => p.v.row.name);
    this.link.sendJson(MSG.COMMIT, { through: this.committedThrough, synced });
  }

  /** Ships the current content of every track written after what the secondary applied. */
  private async resync(p: Pair): Promise<void> {
    if (p.scanning) return;
    const link = this.link;
    if (!link || !this.ready) return;
    p.scanning = true;
    const shippedBefore = p.bytesShipped;
    // a scan belongs to the connection it started on: once that closes, it stops and leaves
    // the pair alone (the next connection runs its own)
    const current = (): boolean => this.link === link && !link.isClosed;
    try {
      p.skipped.reset(); // this scan covers them
      await this.engine.flush(); // the scan's starting point must be durable here
      if (!current()) return;
      p.scanFrom = p.applied;
      p.scanUpTo = this.engine.nextSeq - 1;
      p.scanDone = 0;
      const dir = p.v.directory;
      const scan = new ScanBatch(this, link, p);
      this.opts.log.info('resync started', { volume: p.v.row.name, fromSeq: p.scanFrom, toSeq: p.scanUpTo });
      for (let t = 0; t < p.v.tracks; t++) {
        p.scanDone = t + 1;
        if (dir.segmentOf(t) === 0) continue;
        const seq = dir.seqOf(t);
        if (seq <= p.scanFrom || seq > p.scanUpTo) continue;
        t += (await scan.add(t)) - 1;
        if (!current()) return;
      }
      await scan.finish();
      p.scanDone = p.v.tracks;
      // updates the lag bound kept back during the scan
      if (!current() || !(await this.shipSkipped(link, p, current))) return;
      p.synced = !p.dirty; // false if the lag bound kept more back since (scanEnded catches up)
      this.opts.log.info('resync shipped', { volume: p.v.row.name, bytes: p.bytesShipped - shippedBefore });
      this.sendCommit();
    } finally {
      this.scanEnded(link, p);
    }
  }

  /** After the async lag bound was hit on a live link: ships just the tracks it kept back. */
  private async catchUp(p: Pair): Promise<void> {
    const link = this.link;
    if (p.scanning || !link || !this.ready) return;
    p.scanning = true;
    const current = (): boolean => this.link === link && !link.isClosed;
    try {
      const tracks = p.skipped.size;
      const shippedBefore = p.bytesShipped;
      if (!(await this.shipSkipped(link, p, current))) return;
      p.scanUpTo = this.engine.nextSeq - 1; // duplex again once the secondary applied this far
      p.synced = !p.dirty; // false if the lag bound kept more back since (scanEnded catches up)
      this.opts.log.info('caught up after the lag bound', { volume: p.v.row.name, tracks, bytes: p.bytesShipped - shippedBefore });
      this.sendCommit();
    } finally {
      this.scanEnded(link, p);
    }
  }

  /** A scan is over. Tracks the lag bound kept back after its last look (between awaits) are
   * caught up once the socket drains. */
  private scanEnded(link: FramedSocket, p: Pair): void {
    if (this.link !== link) return;
    p.scanning = false;
    if (p.dirty && !link.isClosed) void this.resyncAfterDrain(link, p);
  }

  /** Ships the current content of each track the lag bound kept back, until none is left (more
   * may be marked meanwhile). False if the link went away. */
  private async shipSkipped(link: FramedSocket, p: Pair, current: () => boolean): Promise<boolean> {
    const scan = new ScanBatch(this, link, p);
    while (p.skipped.size > 0) {
      for (let t = p.skipped.next(0); t >= 0; t = p.skipped.next(t + 1)) {
        p.skipped.clear(t, 1); // marked again if rewritten and kept back again meanwhile
        const covered = await scan.add(t);
        if (covered > 1) p.skipped.clear(t, covered);
        if (!current()) return false;
      }
      await scan.finish();
      if (!current()) return false;
    }
    p.dirty = false;
    return true;
  }

  /** Ships an update as a scan does; ScanBatch uses it. */
  shipScanned(link: FramedSocket, p: Pair, u: Omit<UpdateEvent, 'volumeId'>): void {
    this.ship(link, p, u);
  }

  /** Frames a scan sends between COMMITs and drain checks: at most a quarter of what it lets
   * queue in the socket. */
  get scanBurst(): number {
    return Math.max(1, Math.min(SCAN_COMMIT_EVERY, Math.floor(this.scanQueueBytes / 4 / this.engine.layout.trackBytes)));
  }

  /** Lets the secondary apply as a scan goes, and keeps the socket's queue short. */
  async pace(link: FramedSocket): Promise<void> {
    this.sendCommit();
    await link.drained(this.scanQueueBytes);
  }

  // ---- status and snapshots ----

  status(): PairStatus[] {
    return [...this.pairs.values()].map((p) => {
      let outOfSync = 0;
      const dir = p.v.directory;
      for (let t = 0; t < p.v.tracks; t++) if (dir.segmentOf(t) !== 0 && dir.seqOf(t) > p.applied) outOfSync++;
      return {
        volume: p.v.row.name, state: p.state, mode: this.opts.mode,
        lagSeq: Math.max(0, p.lastSeq - p.applied), lagBytes: this.link ? this.link.queuedBytes : 0,
        outOfSyncTracks: outOfSync, lastAppliedSeq: p.applied,
        copyProgress: p.state === 'duplex' ? 1 : p.v.tracks > 0 ? p.scanDone / p.v.tracks : 1,
        tracking: p.dirty, error: p.error ?? (this.ready ? null : this.lastError), bytesShipped: p.bytesShipped,
      };
    });
  }

  /** True when some shipped update of these volumes is not applied yet (the patent's check). */
  updateInProgress(volumeIds: number[]): boolean {
    return volumeIds.some((id) => {
      const p = this.pairs.get(id);
      return !p || p.state !== 'duplex' || p.lastSeq > p.applied;
    });
  }

  /** Reads a range of a snapshot back from the secondary (restore). */
  readSnapshotRange(ask: Omit<RestoreRead, 'id'>, timeoutMs: number): Promise<RestoreChunk> {
    const link = this.link;
    if (!link || !this.ready) throw new ProtocolError(`the secondary is not connected${this.lastError ? ` (${this.lastError})` : ''}`);
    return this.restores.read(link, ask, timeoutMs);
  }

  /** Relays a snapshot request with a barrier; resolves with the secondary's completion (or
   * `{error, code}`: the secondary's error code, LSA_TIMEOUT, LSA_UNAVAILABLE). */
  async relaySnapshot(volumes: string[], name: string, barrier: number, timeoutMs: number, more: { replace?: boolean; snapshotsMax?: number } = {}): Promise<Record<string, unknown>> {
    const link = this.link;
    if (!link || !this.ready) throw new ProtocolError(`the secondary is not connected${this.lastError ? ` (${this.lastError})` : ''}`);
    const id = ++this.snapshotIds;
    const done = new Promise<Record<string, unknown>>((resolve) => this.snapshotWaiters.set(id, resolve));
    link.sendJson(MSG.SNAPSHOT, { id, volumes, name, barrier, ...more });
    this.sendCommit();
    let cancel: Cancel = () => undefined;
    const timeout = new Promise<Record<string, unknown>>((resolve) => {
      cancel = this.timers.after(timeoutMs, () => resolve({ id, error: `no completion from the secondary within ${timeoutMs} ms`, code: 'LSA_TIMEOUT' }));
    });
    try {
      return await Promise.race([done, timeout]);
    } finally {
      cancel();
      this.snapshotWaiters.delete(id);
    }
  }
}
