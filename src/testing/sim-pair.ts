// A whole pair in one process from one seed: a primary and a secondary array on simulated
// disks (in-memory NVRAM), the replication link over the in-memory network, both on one
// simulated scheduler (their clock and timers), and a host that writes to the primary. Every
// random choice comes from the seed (the host's operations, the network's jitter and
// corruption, the handshake nonces, the array ids), so a run replays exactly: two runs from one
// seed end with the same trace hash. The seam of issue 15: `lsa simulate` builds on this.

import * as path from 'node:path';
import type { Geometry } from '../array/geometry';
import { MemNetwork, type MemNetworkOptions } from '../io/mem-network';
import { SimDiskSystem } from '../io/sim-disk';
import { SimScheduler } from '../io/sim-scheduler';
import { sleep } from '../io/timers';
import type { LsaEngine } from '../lsa/engine';
import { createArray } from '../lsa/open-array';
import { createVolume } from '../lsa/volumes';
import { PrimaryReplicator, type ReplicationMode } from '../replication/primary';
import { SecondaryServer } from '../replication/secondary';
import { silentLogger, type Logger } from '../util/log';
import { Prng } from '../util/prng';
import { volumeByName } from '../volume/volume';
import { applyHostOp, randomOp } from './workload';

export const SIM_PAIR_GEOMETRY: Partial<Geometry> = { disks: 4, columnBytes: 64 * 1024, diskBytes: 8 * 1024 * 1024, trackBytes: 4096 };
export const SIM_REPLICA_ADDRESS = { host: 'secondary', port: 10811 };
/** The host's pause between two operations is up to this long (half of them have none). */
export const HOST_THINK_MS_MAX = 2;
/** Short, as in the process tests, so that a stalled link is given up within a round. */
export const SIM_LINK_TIMEOUT_MS = 2000;

export interface SimPairOptions {
  seed: number;
  /** Holds the arrays' directories (nothing is written there: the disks are simulated). */
  root: string;
  mode: ReplicationMode;
  capacityBytes: number;
  network?: MemNetworkOptions;
  /** TLS-PSK on the link (default true; the in-memory network models it). */
  tls?: boolean;
  log?: Logger;
}

/** A seeded stand-in for crypto.randomBytes. */
function seededBytes(rng: Prng): (n: number) => Buffer {
  return (n) => rng.fill(Buffer.alloc(n));
}

/** An array id from the seed (a UUID's shape). */
function seededId(rng: Prng): string {
  const hex = rng.fill(Buffer.alloc(16)).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class SimPair {
  private constructor(
    readonly sched: SimScheduler,
    readonly net: MemNetwork,
    /** The host's and the test's choices (faults, delays). */
    readonly rng: Prng,
    readonly primary: LsaEngine,
    readonly secondary: LsaEngine,
    readonly server: SecondaryServer,
    readonly replicator: PrimaryReplicator,
  ) {}

  static async create(o: SimPairOptions): Promise<SimPair> {
    const sched = new SimScheduler();
    const seeds = new Prng(o.seed);
    const net = new MemNetwork(sched, seeds.u32(), o.network);
    const rng = new Prng(seeds.u32());
    const random = seededBytes(new Prng(seeds.u32()));
    const key = random(32);
    const log = o.log ?? silentLogger;
    const make = async (name: string): Promise<LsaEngine> => {
      const engine = await createArray(path.join(o.root, name), {
        geometry: SIM_PAIR_GEOMETRY, disks: new SimDiskSystem(), nvram: 'memory', lock: false, clock: sched, volume: null, arrayId: seededId(seeds),
      });
      return engine;
    };
    const primary = await make('primary');
    await createVolume(primary, 'vol0', o.capacityBytes, 'none');
    const secondary = await make('secondary');
    const server = new SecondaryServer(secondary, {
      ...SIM_REPLICA_ADDRESS, key, tls: o.tls ?? true, log: log.child('secondary'), transport: net.transport('secondary'), timers: sched, random,
    });
    await sched.drive(server.listen());
    const replicator = new PrimaryReplicator(primary, {
      ...SIM_REPLICA_ADDRESS, key, tls: o.tls ?? true, mode: o.mode, lagMaxBytes: 64 * 1024 * 1024, log: log.child('primary'), reconnectMs: 50,
      linkTimeoutMs: SIM_LINK_TIMEOUT_MS, transport: net.transport('primary'), timers: sched, random,
    });
    replicator.start();
    return new SimPair(sched, net, rng, primary, secondary, server, replicator);
  }

  /** Runs the simulation until `work` is done. */
  drive<T>(work: Promise<T>, limitMs?: number): Promise<T> {
    return this.sched.drive(work, limitMs);
  }

  /** `ops` random host operations on vol0 (writes, trims, zeroes, flushes), one at a time with
   * up to HOST_THINK_MS_MAX between them (host I/O takes no simulated time, so without a pause
   * a burst would be over before the link moved), then a flush. Call it under drive(). */
  async hostWrites(ops: number, rng = this.rng): Promise<void> {
    const v = volumeByName(this.primary, 'vol0');
    const shape = { sizeBytes: v.sizeBytes, trackBytes: v.trackBytes, tracksMax: 8 };
    for (let i = 0; i < ops; i++) {
      const op = randomOp(rng, shape);
      if (await applyHostOp(v, op)) this.sched.trace(`host ${op.kind}`);
      if (rng.chance(0.5)) await sleep(this.sched, rng.next() * HOST_THINK_MS_MAX);
    }
    await v.flush();
  }

  /** Runs until every volume is duplex with nothing left to apply. */
  async waitDuplex(limitMs = 600_000): Promise<void> {
    await this.drive(this.primary.flush());
    const pairs = [...this.replicator.pairs.values()];
    await this.sched.until('duplex', () => this.replicator.connected && pairs.every((p) => p.state === 'duplex' && p.lastSeq <= p.applied), limitMs);
  }

  /** The first byte where vol0 differs between the two sides, or -1. */
  async firstDifference(name = 'vol0'): Promise<number> {
    const a = volumeByName(this.primary, name);
    const b = volumeByName(this.secondary, name);
    const x = await this.drive(a.read(0, a.sizeBytes));
    const y = await this.drive(b.read(0, b.sizeBytes));
    if (x.equals(y)) return -1;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
    return x.length;
  }

  async close(): Promise<void> {
    await this.drive(this.replicator.stop());
    await this.drive(this.server.close());
    await this.sched.runFor(2000); // the closes reach both ends
    await this.drive(this.primary.close());
    await this.drive(this.secondary.close());
  }
}
