// The primary's half of the snapshot relay (the seed's steps 300-318) and of restores, whatever
// front end asks (the control API maps HTTP to these two calls and nothing more):
//
//   take: if a remote-copy update is in progress for a volume and the caller did not ask to
//         wait, refuse ("not now": TryAgainError) and take nothing; otherwise fix a barrier
//         (the last sequence assigned), relay the request to the secondary in the same instant,
//         make the barrier durable, and wait for the completion signal with the location.
//   restore: one at a time per volume, never while a snapshot of it is being taken; the
//         primary reads the snapshot back from the secondary (restore-from-secondary.ts).
//
// Host I/O never pauses. Every refusal is a typed error (src/errors.ts), so each front end
// maps it once (httpStatusOf, exitCodeOf).

import { NotFoundError, RemoteError, TimeoutError, TryAgainError, UnavailableError, errorFromCode } from '../errors';
import { systemClock, sleepMs, type Clock } from '../io/clock';
import type { HostIo, UpdateSource } from '../lsa/engine-ports';
import type { PrimaryReplicator } from '../replication/primary';
import type { Logger } from '../util/log';
import { restoreFromSecondary, type RestoreResult } from './restore-from-secondary';
import { DEFAULT_SNAPSHOT_NAME, SNAPSHOTS_MAX_DEFAULT } from './snapshot-store';

/** What of the remote copy the relay uses. */
export type RelayLink = Pick<PrimaryReplicator, 'connected' | 'pairs' | 'updateInProgress' | 'relaySnapshot' | 'readSnapshotRange'>;

/** How often a `wait` looks at the pair again. */
const DUPLEX_POLL_MS = 20;

export interface SnapshotAsk {
  volumes: string[];
  /** Default `latest`, which replaces itself. */
  name?: string;
  /** Wait for the pair to be duplex instead of being refused while an update is in progress. */
  wait: boolean;
  timeoutMs: number;
  /** Replace a snapshot of that name (otherwise: AlreadyExistsError from the secondary). */
  replace: boolean;
}

export interface SnapshotTaken {
  name: string;
  volumes: string[];
  location: string;
  seq: number;
  entries: number;
  durationMs: number;
}

export interface PrimarySnapshotsOptions {
  /** Host I/O and the write sequence (the snapshot barrier). */
  engine: HostIo & Pick<UpdateSource, 'nextSeq'>;
  /** Null on a primary started without --secondary: every request is refused. */
  link: RelayLink | null;
  log: Logger;
  /** Snapshots per volume the secondary may keep (it keeps the lower of this and its own). */
  snapshotsMax?: number;
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
}

export class PrimarySnapshots {
  /** Volumes being restored: one restore at a time each, and no snapshot of them meanwhile. */
  private restoring = new Set<string>();
  private readonly clock: Clock;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(readonly opts: PrimarySnapshotsOptions) {
    this.clock = opts.clock ?? systemClock;
    this.sleep = opts.sleep ?? ((ms) => sleepMs(ms));
  }

  private checkVolumes(volumes: string[]): number[] {
    return volumes.map((n) => {
      const v = this.opts.engine.volumesByName.get(n);
      if (!v) throw new NotFoundError(`no volume "${n}" on this primary`, { volume: n });
      return v.row.id;
    });
  }

  private link(): RelayLink {
    const link = this.opts.link;
    if (!link) throw new UnavailableError('this server has no secondary (start it with --secondary HOST:PORT)');
    return link;
  }

  async take(ask: SnapshotAsk): Promise<SnapshotTaken> {
    const e = this.opts.engine;
    const names = [...new Set(ask.volumes)];
    const ids = this.checkVolumes(names);
    const name = ask.name ?? DEFAULT_SNAPSHOT_NAME;
    const link = this.link();
    const busy = names.find((n) => this.restoring.has(n));
    if (busy) throw new TryAgainError(`volume ${busy} is being restored; take the snapshot when the restore has finished`, { volume: busy });
    const deadline = this.clock.nowMs() + ask.timeoutMs;
    if (!ask.wait && link.updateInProgress(ids)) {
      throw new TryAgainError('remote copy in progress; retry, or use --wait', { volumes: names });
    }
    if (ask.wait) {
      while (!link.connected || ids.some((id) => link.pairs.get(id)?.state !== 'duplex')) {
        if (this.clock.nowMs() > deadline) {
          throw new TimeoutError(`the pair did not reach duplex within ${ask.timeoutMs} ms${link.connected ? '' : ': the secondary is not reachable'}`, { volumes: names });
        }
        await this.sleep(DUPLEX_POLL_MS);
      }
    }
    // the barrier: the last sequence assigned now (a resync, if any, is over: every track's
    // state at the barrier is on its way); made durable here so the secondary may apply up to it
    const barrier = e.nextSeq - 1;
    // the request goes out now, in the same instant: every COMMIT the secondary sees after it
    // comes later in the stream, so it freezes before applying anything past the barrier
    // (a link that dropped meanwhile refuses at once: an answer like the others, never a
    // rejection left unhandled while the flush runs)
    const relayed = link.relaySnapshot(names, name, barrier, Math.max(1, deadline - this.clock.nowMs()), {
      replace: ask.replace, snapshotsMax: this.opts.snapshotsMax ?? SNAPSHOTS_MAX_DEFAULT,
    }).catch((err: unknown): Record<string, unknown> => ({ error: `the snapshot was not relayed: ${(err as Error).message}`, code: 'LSA_UNAVAILABLE' }));
    await e.flush();
    const result = await relayed;
    if (typeof result.error === 'string') {
      // the secondary's own refusal keeps its class (exists, limit, not found ...)
      throw errorFromCode(result.code, `the secondary did not take the snapshot: ${result.error}`, { volumes: names, name }, RemoteError);
    }
    const taken: SnapshotTaken = {
      name: String(result.name), volumes: result.volumes as string[], location: String(result.location),
      seq: Number(result.seq), entries: Number(result.entries), durationMs: Number(result.durationMs),
    };
    this.opts.log.info('snapshot taken', { name, volumes: names, seq: taken.seq, location: taken.location });
    return taken;
  }

  async restore(volume: string, name: string, timeoutMs: number): Promise<RestoreResult> {
    this.checkVolumes([volume]);
    const link = this.link();
    if (!link.connected) throw new UnavailableError('the secondary is not connected; a restore reads the snapshot from it');
    if (this.restoring.has(volume)) throw new TryAgainError(`volume ${volume} is being restored already`, { volume });
    this.restoring.add(volume);
    try {
      return await restoreFromSecondary(this.opts.engine, link, volume, name, timeoutMs, this.opts.log, this.clock);
    } finally {
      this.restoring.delete(volume);
    }
  }
}
