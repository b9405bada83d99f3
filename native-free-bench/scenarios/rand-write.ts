// rand-write: 4 KiB writes at random track-aligned offsets, 32 in flight, then a flush, as an
// NBD client with queue depth 32 that flushes after each window drives a volume. Baseline: the
// same offsets and bytes written with positional fs writes (32 in flight) into a plain sparse
// file of the volume's size, then fdatasync.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Prng } from '../../src/util/prng';
import { benchGeometry } from '../harness/array-size';
import { createBenchVolume } from '../harness/bench-volume';
import { randomBytes } from '../harness/random-data';
import { RawFile } from '../harness/raw-file';
import { defineScenario, verdictOf, type ScenarioContext, type Trial } from '../harness/scenario';
import { quantileSorted } from '../harness/summarize';
import { MIB, nowMs } from '../harness/timing';

type RandWriteParams = {
  volumeBytes: number;
  writes: number;
  ioBytes: number;
  queueDepth: number;
  disks: number;
};

/** Distinct 4 KiB data blocks cycled through by the writes. */
const DATA_BLOCKS_MAX = 4096;

interface Workload {
  offsets: number[];
  data: Buffer;
  blocks: number;
}

/** The bytes of write k. */
function block(w: Workload, p: RandWriteParams, k: number): Buffer {
  const b = k % w.blocks;
  return w.data.subarray(b * p.ioBytes, (b + 1) * p.ioBytes);
}

interface Timing {
  totalMs: number;
  /** Per window: from issuing its writes to the end of the flush that makes them durable. */
  windowMs: number[];
}

/** Drives windows of `queueDepth` concurrent writes, each followed by a flush. */
async function drive(ctx: ScenarioContext, label: string, p: RandWriteParams, w: Workload, write: (k: number) => Promise<void>, flush: () => Promise<void>): Promise<Timing> {
  const windowMs: number[] = [];
  const t0 = nowMs();
  for (let first = 0; first < p.writes; first += p.queueDepth) {
    const start = nowMs();
    const inFlight: Promise<void>[] = [];
    for (let k = first; k < Math.min(p.writes, first + p.queueDepth); k++) inFlight.push(write(k));
    await Promise.all(inFlight);
    await flush();
    windowMs.push(nowMs() - start);
    ctx.progress(first + p.queueDepth, p.writes, label);
  }
  return { totalMs: nowMs() - t0, windowMs };
}

async function lsaRun(ctx: ScenarioContext, dir: string, p: RandWriteParams, w: Workload): Promise<Timing> {
  const { engine, volume } = await createBenchVolume(dir, benchGeometry(p.volumeBytes, p.writes * p.ioBytes, p.disks), p.volumeBytes);
  try {
    return await drive(ctx, 'lsa', p, w, (k) => volume.write(w.offsets[k], block(w, p, k)), () => volume.flush());
  } finally {
    await engine.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function rawRun(ctx: ScenarioContext, file: string, p: RandWriteParams, w: Workload): Promise<Timing> {
  const f = RawFile.create(file, p.volumeBytes);
  try {
    return await drive(ctx, 'raw file', p, w, (k) => f.write(block(w, p, k), w.offsets[k]), () => f.fdatasync());
  } finally {
    f.close();
    fs.rmSync(file, { force: true });
  }
}

function percentiles(ms: number[]): { p50: number; p99: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  return { p50: quantileSorted(sorted, 0.5), p99: quantileSorted(sorted, 0.99) };
}

export const randWrite = defineScenario<RandWriteParams>({
  name: 'rand-write',
  title: '4 KiB random writes, 32 in flight, flush per 32',
  measures: 'system',
  baseline: 'the same offsets and bytes written with positional fs.write (32 in flight) into a plain sparse file of the volume size, fdatasync after every 32, in the same run (the order alternates between runs)',
  target: 'none yet (informational)',
  metrics: [
    { key: 'lsaIops', unit: 'IOPS', description: 'writes / time from the first write to the last flush' },
    { key: 'rawIops', unit: 'IOPS', description: 'writes / time from the first write to the last fdatasync' },
    { key: 'ratio', unit: '', description: 'lsaIops / rawIops of the same run' },
    { key: 'p50Ms', unit: 'ms', description: 'LSA: median time from issuing a window of 32 writes to the end of its flush' },
    { key: 'p99Ms', unit: 'ms', description: 'LSA: 99th percentile of the same' },
    { key: 'rawP50Ms', unit: 'ms', description: 'plain file: median time from issuing 32 writes to the end of their fdatasync' },
    { key: 'rawP99Ms', unit: 'ms', description: 'plain file: 99th percentile of the same' },
  ],
  sizes: {
    tiny: { volumeBytes: 16 * MIB, writes: 512, ioBytes: 4096, queueDepth: 32, disks: 5 },
    quick: { volumeBytes: 256 * MIB, writes: 8192, ioBytes: 4096, queueDepth: 32, disks: 5 },
    full: { volumeBytes: 1024 * MIB, writes: 32768, ioBytes: 4096, queueDepth: 32, disks: 5 },
  },

  async prepare(ctx, p): Promise<Trial> {
    const blocks = Math.min(p.writes, DATA_BLOCKS_MAX);
    const data = randomBytes(blocks * p.ioBytes, ctx.seed);
    const slots = p.volumeBytes / p.ioBytes;
    return {
      async run(index) {
        const rng = new Prng((ctx.seed + 0x9e3779b9 * (index + 1)) >>> 0);
        const w: Workload = { offsets: Array.from({ length: p.writes }, () => rng.int(slots) * p.ioBytes), data, blocks };
        const lsaDir = path.join(ctx.workDir, `array-${index}`);
        const rawFile = path.join(ctx.workDir, `raw-${index}.img`);
        let lsa: Timing;
        let raw: Timing;
        if (index % 2 === 0) {
          lsa = await lsaRun(ctx, lsaDir, p, w);
          raw = await rawRun(ctx, rawFile, p, w);
        } else {
          raw = await rawRun(ctx, rawFile, p, w);
          lsa = await lsaRun(ctx, lsaDir, p, w);
        }
        const lsaIops = p.writes / (lsa.totalMs / 1000);
        const rawIops = p.writes / (raw.totalMs / 1000);
        const l = percentiles(lsa.windowMs);
        const r = percentiles(raw.windowMs);
        return {
          metrics: { lsaIops, rawIops, ratio: lsaIops / rawIops, p50Ms: l.p50, p99Ms: l.p99, rawP50Ms: r.p50, rawP99Ms: r.p99 },
          series: { lsaWindowMs: lsa.windowMs, rawWindowMs: raw.windowMs },
        };
      },
      async dispose() {},
    };
  },

  result: (s) => ({
    lsaIops: s.metrics.lsaIops.median,
    rawIops: s.metrics.rawIops.median,
    ratio: s.metrics.ratio.median,
    p50Ms: s.metrics.p50Ms.median,
    p99Ms: s.metrics.p99Ms.median,
  }),

  judge: () => verdictOf([]),

  plot: (s) => [
    {
      kind: 'bars',
      title: 'write rate',
      unit: 'IOPS',
      bars: [
        { label: 'LSA volume', role: 'ours', ...s.metrics.lsaIops },
        { label: 'plain file', role: 'baseline', ...s.metrics.rawIops },
      ],
    },
    {
      kind: 'cdf',
      title: 'window latency',
      unit: 'ms',
      series: [
        { label: 'LSA volume', role: 'ours', quantiles: s.distributions.lsaWindowMs.quantiles },
        { label: 'plain file', role: 'baseline', quantiles: s.distributions.rawWindowMs.quantiles },
      ],
    },
  ],
});
