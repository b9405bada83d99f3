// An in-process NBD server over an engine on simulated disks (fast, and crashable), for
// protocol and fuzz tests.

import type { Geometry } from '../../src/array/geometry';
import { SimDiskSystem } from '../../src/io/sim-disk';
import type { LsaEngine } from '../../src/lsa/engine';
import { MemoryNvram } from '../../src/lsa/nvram';
import { createArray, openArray } from '../../src/lsa/open-array';
import { createVolume } from '../../src/lsa/volumes';
import { NbdServer, type NbdServerOptions } from '../../src/nbd/server';
import { createLogger, type Logger } from '../../src/util/log';
import type { Prng } from '../../src/util/prng';
import { volumeOf, type Volume } from '../../src/volume/volume';

export const RIG_GEOMETRY: Geometry = { disks: 5, columnBytes: 256 * 1024, diskBytes: 64 * 1024 * 1024, trackBytes: 4096 };

/** A logger that keeps its lines (to check that hostile input is logged). */
export class MemoryLog {
  lines: string[] = [];
  readonly logger: Logger;

  constructor(level: 'debug' | 'info' | 'warn' = 'info') {
    const stream = { write: (s: string): boolean => (this.lines.push(s), true) } as unknown as NodeJS.WritableStream;
    this.logger = createLogger('nbd', { stream, level });
  }

  count(re: RegExp): number {
    return this.lines.filter((l) => re.test(l)).length;
  }
}

export class NbdRig {
  server!: NbdServer;
  port = 0;

  private constructor(readonly disks: SimDiskSystem, readonly nvram: MemoryNvram, public engine: LsaEngine, readonly log: MemoryLog) {}

  static async create(volumes: [string, number][], opts: NbdServerOptions = {}, geometry: Geometry = RIG_GEOMETRY): Promise<NbdRig> {
    const disks = new SimDiskSystem();
    const nvram = new MemoryNvram();
    const engine = await createArray('/sim/array', { geometry, disks, nvram, lock: false, volume: null });
    for (const [name, bytes] of volumes) await createVolume(engine, name, bytes, 'none');
    const rig = new NbdRig(disks, nvram, engine, new MemoryLog());
    await rig.start(opts);
    return rig;
  }

  async start(opts: NbdServerOptions = {}): Promise<void> {
    this.server = new NbdServer(this.engine, { host: '127.0.0.1', port: 0, log: this.log.logger, ...opts });
    this.port = (await this.server.listen()).port;
  }

  volume(name: string): Volume {
    return volumeOf(this.engine, this.engine.volumesByName.get(name)!);
  }

  /** Power loss: the server goes away without a flush, unsynced writes are torn or lost. */
  async crashAndReopen(rng: Prng, opts: NbdServerOptions = {}): Promise<void> {
    this.server.abort();
    await this.engine.abandon();
    this.disks.crash(rng);
    this.engine = await openArray('/sim/array', { disks: this.disks, nvram: this.nvram, lock: false });
    await this.start(opts);
  }

  async close(): Promise<void> {
    await this.server.shutdown();
    await this.engine.close();
  }
}
