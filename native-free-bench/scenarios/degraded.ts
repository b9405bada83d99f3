// degraded: reading a volume with one disk file missing, and rebuilding that disk. In one run:
// sequential 1 MiB reads of the whole volume through the Volume API on the healthy array, then
// the same after removing one disk file while the array is closed (it reopens degraded: that
// disk's columns are rebuilt from the others and parity on every read), then rebuildDisk.
// Baselines: the healthy read for the degraded one, and for the rebuild a plain sequential
// read of exactly the bytes it reads (the same columns of the surviving disk files).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { diskPath } from '../../src/array/disk-array';
import type { LsaEngine } from '../../src/lsa/engine';
import { openArray } from '../../src/lsa/open-array';
import { rebuildDisk } from '../../src/lsa/rebuild-disk';
import { volumeByName } from '../../src/volume/volume';
import { benchGeometry } from '../harness/array-size';
import { BENCH_VOLUME, createBenchVolume } from '../harness/bench-volume';
import { randomBytes } from '../harness/random-data';
import { RawFile } from '../harness/raw-file';
import { defineScenario, verdictOf, type ScenarioContext, type Trial } from '../harness/scenario';
import { MIB, mibPerSecond, timed } from '../harness/timing';

type DegradedParams = {
  volumeBytes: number;
  readBytes: number;
  fillWriteBytes: number;
  disks: number;
};

/** Random data cycled through to fill the volume; byte b of the volume is pool[b % length]. */
const FILL_POOL_BYTES = 64 * MIB;
/** Reads compared with the pool after each timed pass (a check, not part of the timing). */
const VERIFY_READS = 8;

async function fillArray(ctx: ScenarioContext, dir: string, p: DegradedParams, pool: Buffer): Promise<Record<string, number>> {
  const geometry = benchGeometry(p.volumeBytes, p.volumeBytes, p.disks);
  const { engine, volume } = await createBenchVolume(dir, geometry, p.volumeBytes);
  try {
    const fillMs = await timed(async () => {
      for (let off = 0; off < p.volumeBytes; off += p.fillWriteBytes) {
        const at = off % pool.length;
        await volume.write(off, pool.subarray(at, at + p.fillWriteBytes));
        ctx.progress(off + p.fillWriteBytes, p.volumeBytes, 'filling the volume');
      }
      await volume.flush();
    });
    return { fillMs: Math.round(fillMs), diskBytes: geometry.diskBytes, columnBytes: geometry.columnBytes };
  } finally {
    await engine.close();
  }
}

/** Reads the whole volume in order; returns the milliseconds it took. */
async function readVolume(ctx: ScenarioContext, engine: LsaEngine, p: DegradedParams, label: string): Promise<number> {
  const volume = volumeByName(engine, BENCH_VOLUME);
  return timed(async () => {
    for (let off = 0; off < p.volumeBytes; off += p.readBytes) {
      await volume.read(off, p.readBytes);
      if ((off / p.readBytes) % 16 === 0) ctx.progress(off, p.volumeBytes, label);
    }
  });
}

async function verifyVolume(engine: LsaEngine, p: DegradedParams, pool: Buffer, label: string): Promise<void> {
  const volume = volumeByName(engine, BENCH_VOLUME);
  const chunks = p.volumeBytes / p.readBytes;
  for (let i = 0; i < VERIFY_READS; i++) {
    const off = Math.floor((i * (chunks - 1)) / (VERIFY_READS - 1)) * p.readBytes;
    const at = off % pool.length;
    if (!(await volume.read(off, p.readBytes)).equals(pool.subarray(at, at + p.readBytes))) {
      throw new Error(`${label}: bytes ${off}..${off + p.readBytes - 1} read back wrong`);
    }
  }
}

/** Segments whose columns rebuildDisk reads from the other disks (closed ones; the open
 * segment is rewritten from memory). */
function closedSegments(engine: LsaEngine): number[] {
  return engine.segments.rows.filter((r) => r.state === 'closed' || r.state === 'collecting').map((r) => r.index);
}

/** The baseline of the rebuild: the same columns of every surviving disk file, read in order
 * with plain positional reads of one column each; returns the milliseconds. */
async function readSurvivors(dir: string, p: DegradedParams, missing: number, segments: number[], columnBytes: number): Promise<number> {
  const buf = Buffer.allocUnsafe(columnBytes);
  return timed(async () => {
    for (let d = 0; d < p.disks; d++) {
      if (d === missing) continue;
      const f = RawFile.openForReading(diskPath(dir, d));
      try {
        for (const s of segments) {
          if ((await f.read(buf, s * columnBytes)) !== columnBytes) throw new Error(`${f.path} is shorter than segment ${s}`);
        }
      } finally {
        f.close();
      }
    }
  });
}

export const degraded = defineScenario<DegradedParams>({
  name: 'degraded',
  title: 'reads with one disk file missing, and the rebuild of that disk',
  measures: 'system',
  baseline: 'the same reads on the healthy array just before (for the degraded reads), and a plain sequential read of the bytes the rebuild reads, the same columns of the surviving disk files, in the same run (for the rebuild); page cache warm for all',
  target: 'none yet (informational)',
  metrics: [
    { key: 'healthyMiBps', unit: 'MiB/s', description: 'whole volume read in order, 1 MiB Volume.read calls, all disks present' },
    { key: 'degradedMiBps', unit: 'MiB/s', description: 'the same with one disk file removed (reopened degraded)' },
    { key: 'degradedRatio', unit: '', description: 'degradedMiBps / healthyMiBps of the same run' },
    { key: 'rebuildMiBps', unit: 'MiB/s', description: 'rebuildDisk: bytes it reads from the surviving disks per second' },
    { key: 'plainReadMiBps', unit: 'MiB/s', description: 'baseline: the same bytes of the surviving disk files read with plain positional reads' },
    { key: 'rebuildRatio', unit: '', description: 'rebuildMiBps / plainReadMiBps of the same run (1 = the rebuild is as fast as reading its input)' },
    { key: 'rebuiltDiskMiBps', unit: 'MiB/s', description: 'rebuildDisk: bytes written to the new disk file per second' },
  ],
  sizes: {
    tiny: { volumeBytes: 8 * MIB, readBytes: MIB, fillWriteBytes: 4 * MIB, disks: 5 },
    quick: { volumeBytes: 256 * MIB, readBytes: MIB, fillWriteBytes: 8 * MIB, disks: 5 },
    full: { volumeBytes: 1024 * MIB, readBytes: MIB, fillWriteBytes: 8 * MIB, disks: 5 },
  },

  async prepare(ctx, p): Promise<Trial> {
    const dir = path.join(ctx.workDir, 'array');
    const pool = randomBytes(Math.min(FILL_POOL_BYTES, p.volumeBytes), ctx.seed);
    const setup = await fillArray(ctx, dir, p, pool);
    return {
      setup,
      async run(index) {
        // a different disk each run: each holds data columns of some segments and parity of others
        const missing = index % p.disks;
        let engine = await openArray(dir);
        let healthyMs: number;
        try {
          healthyMs = await readVolume(ctx, engine, p, 'healthy read');
          await verifyVolume(engine, p, pool, 'healthy');
        } finally {
          await engine.close();
        }
        fs.rmSync(diskPath(dir, missing));
        engine = await openArray(dir);
        try {
          if (engine.array.health[missing] !== 'missing') throw new Error(`disk ${missing} removed, but the array reports it ${engine.array.health[missing]}`);
          const degradedMs = await readVolume(ctx, engine, p, `read without disk ${missing}`);
          await verifyVolume(engine, p, pool, `degraded (disk ${missing} missing)`);
          const segments = closedSegments(engine);
          const readBytes = segments.length * setup.columnBytes * (p.disks - 1);
          const baseline = (): Promise<number> => readSurvivors(dir, p, missing, segments, setup.columnBytes);
          let rebuiltBytes = 0;
          const rebuild = (): Promise<number> => timed(async () => {
            ctx.progress(0, 1, `rebuilding disk ${missing}`);
            rebuiltBytes = (await rebuildDisk(engine, missing)).bytesWritten;
          });
          // alternate which goes first, so neither always meets the other's writeback
          let plainMs: number;
          let rebuildMs: number;
          if (index % 2 === 0) {
            plainMs = await baseline();
            rebuildMs = await rebuild();
          } else {
            rebuildMs = await rebuild();
            plainMs = await baseline();
          }
          if (engine.array.degraded) throw new Error(`the array is still degraded after rebuilding disk ${missing}`);
          await verifyVolume(engine, p, pool, `rebuilt disk ${missing}`);
          const healthyMiBps = mibPerSecond(p.volumeBytes, healthyMs);
          const degradedMiBps = mibPerSecond(p.volumeBytes, degradedMs);
          const rebuildMiBps = mibPerSecond(readBytes, rebuildMs);
          const plainReadMiBps = mibPerSecond(readBytes, plainMs);
          return {
            metrics: {
              healthyMiBps, degradedMiBps, degradedRatio: degradedMiBps / healthyMiBps,
              rebuildMiBps, plainReadMiBps, rebuildRatio: rebuildMiBps / plainReadMiBps,
              rebuiltDiskMiBps: mibPerSecond(rebuiltBytes, rebuildMs),
            },
          };
        } finally {
          await engine.close();
        }
      },
      async dispose() {},
    };
  },

  result: (s) => ({
    healthyMiBps: s.metrics.healthyMiBps.median,
    degradedMiBps: s.metrics.degradedMiBps.median,
    degradedRatio: s.metrics.degradedRatio.median,
    rebuildMiBps: s.metrics.rebuildMiBps.median,
    plainReadMiBps: s.metrics.plainReadMiBps.median,
    rebuildRatio: s.metrics.rebuildRatio.median,
  }),

  judge: () => verdictOf([]),

  plot: (s) => [
    {
      kind: 'bars',
      title: 'volume read, 1 MiB sequential',
      unit: 'MiB/s',
      bars: [
        { label: 'one disk missing', role: 'ours', ...s.metrics.degradedMiBps },
        { label: 'healthy', role: 'baseline', ...s.metrics.healthyMiBps },
      ],
    },
    {
      kind: 'bars',
      title: 'rebuild input rate',
      unit: 'MiB/s',
      bars: [
        { label: 'rebuildDisk', role: 'ours', ...s.metrics.rebuildMiBps },
        { label: 'plain read', role: 'baseline', ...s.metrics.plainReadMiBps },
      ],
    },
  ],
});
