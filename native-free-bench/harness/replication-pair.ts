// A primary array in this process and, for the replicated configurations, its secondary as a
// real `lsa serve --replica-listen` child process, linked by the real remote copy over loopback
// TCP (PrimaryReplicator -> SecondaryServer): real files, real SQLite, real sockets and two
// processes, so each side has a core of its own as on two machines.

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Geometry } from '../../src/array/geometry';
import { KEY_FILE } from '../../src/io/key-file';
import type { LsaEngine } from '../../src/lsa/engine';
import { createArray } from '../../src/lsa/open-array';
import { PrimaryReplicator, type PairStatus } from '../../src/replication/primary';
import { silentLogger } from '../../src/util/log';
import { createBenchVolume, type BenchVolume } from './bench-volume';
import { startSecondaryChild, type SecondaryChild } from './secondary-child';

/** No secondary; an async or sync one over TLS (the default); the same with
 * `--replica-tls off`, to show what TLS costs. */
export type PairMode = 'none' | 'async' | 'sync' | 'async-plain' | 'sync-plain';

function isPlain(mode: PairMode): boolean {
  return mode.endsWith('-plain');
}

/** How long a pair may take to reach duplex (or the secondary to start) before the scenario
 * fails rather than waits for ever. */
const IN_SYNC_TIMEOUT_MS = 300_000;

export class ReplicationBenchPair {
  replicator: PrimaryReplicator | null = null;

  private constructor(readonly mode: PairMode, readonly primary: BenchVolume, private readonly secondary: SecondaryChild | null, private readonly key: Buffer) {}

  static async create(dir: string, geometry: Geometry, capacityBytes: number, mode: PairMode): Promise<ReplicationBenchPair> {
    const primary = await createBenchVolume(path.join(dir, 'primary'), geometry, capacityBytes);
    if (mode === 'none') return new ReplicationBenchPair(mode, primary, null, Buffer.alloc(0));
    const sdir = path.join(dir, 'secondary');
    await (await createArray(sdir, { geometry, nvram: 'sqlite', volume: null })).close();
    const key = randomBytes(32);
    fs.writeFileSync(path.join(sdir, KEY_FILE), key.toString('hex') + '\n', { mode: 0o600 });
    const secondary = await startSecondaryChild(sdir, isPlain(mode) ? ['--replica-tls', 'off'] : []);
    const pair = new ReplicationBenchPair(mode, primary, secondary, key);
    pair.connect();
    await pair.waitInSync();
    return pair;
  }

  get engine(): LsaEngine {
    return this.primary.engine;
  }

  /** A new primary link (as after a restart of the primary): it resyncs from the secondary's
   * applied watermark. */
  connect(): void {
    if (!this.secondary) return;
    this.replicator = new PrimaryReplicator(this.engine, {
      host: '127.0.0.1', port: this.secondary.port, key: this.key, mode: this.mode.startsWith('sync') ? 'sync' : 'async', tls: !isPlain(this.mode),
      lagMaxBytes: 64 * 1024 * 1024, log: silentLogger, reconnectMs: 20,
    });
    this.replicator.start();
  }

  async disconnect(): Promise<void> {
    await this.replicator?.stop();
    this.replicator = null;
  }

  status(): PairStatus[] {
    return this.replicator?.status() ?? [];
  }

  /** Until every pair is duplex with nothing left to apply (after a flush, so that the COMMIT
   * following it covers every write). */
  async waitInSync(): Promise<void> {
    const r = this.replicator;
    if (!r) return;
    await this.engine.flush();
    const deadline = Date.now() + IN_SYNC_TIMEOUT_MS;
    while (!r.status().every((s) => s.state === 'duplex' && s.lagSeq === 0)) {
      if (Date.now() > deadline) throw new Error(`the bench pair did not reach duplex within ${IN_SYNC_TIMEOUT_MS} ms: ${JSON.stringify(r.status())}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  async close(): Promise<void> {
    await this.disconnect();
    await this.engine.close();
    if (this.secondary) {
      this.secondary.child.kill('SIGTERM');
      await this.secondary.exited;
    }
  }
}
