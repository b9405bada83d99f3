// rand-write: 4 KiB writes at random track-aligned offsets, 32 in flight, then a flush, as an
// NBD client with queue depth 32 that flushes after each window drives a volume, over a volume
// that fills 80% of the array (utilization 0.8), written whole first: once the free segments
// run out, every window also pays for the collector (victims read, live records moved, one
// more commit), which is what a full LSA costs. An untimed warm-up of random writes brings the
// array to that state before the timed part. Baseline: a plain file of the volume's size,
// written whole first, then the same offsets and bytes with positional fs writes (32 in flight)
// and an fdatasync after every 32.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { usableBytes } from '../../src/lsa/volumes';
import { Prng } from '../../src/util/prng';
import { geometryAtUtilization } from '../harness/array-size';
import { createBenchVolume } from '../harness/bench-volume';
import { randomBytes } from '../harness/random-data';
import { RawFile } from '../harness/raw-file';
import { check, defineScenario, verdictOf, type ScenarioContext, type Trial } from '../harness/scenario';
import { quantileSorted } from '../harness/summarize';
import { MIB, nowMs } from '../harness/timing';

type RandWriteParams = {
  volumeBytes: number;
  /** volume bytes / usable bytes of the array */
  utilization: number;
  /** untimed random writes after the fill, so the timed ones find the collector at work */
  warmupWrites: number;
  writes: number;
  ioBytes: number;
  queueDepth: number;
  disks: number;
};

/** Distinct 4 KiB data blocks cycled through by the writes. */
const DATA_BLOCKS_MAX = 4096;
const FILL_WRITE_BYTES = MIB;

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

/** Drives windows of `queueDepth` concurrent writes (offsets[from..to)), each followed by a flush. */
async function drive(ctx: ScenarioContext, label: string, p: RandWriteParams, w: Workload, from: number, to: number, write: (k: number) => Promise<void>, flush: () => Promise<void>): Promise<Timing> {
  const windowMs: number[] = [];
  const t0 = nowMs();
  for (let first = from; first < to; first += p.queueDepth) {
    const start = nowMs();
    const inFlight: Promise<void>[] = [];
    for (let k = first; k < Math.min(to, first + p.queueDepth); k++) inFlight.push(write(k));
    await Promise.all(inFlight);
    await flush();
    windowMs.push(nowMs() - start);
    ctx.progress(first + p.queueDepth - from, to - from, label);
  }
  return { totalMs: nowMs() - t0, windowMs };
}

/** Writes the whole volume (or file) once, in 1 MiB pieces, with the workload's blocks. */
async function fill(ctx: ScenarioContext, label: string, p: RandWriteParams, w: Workload, write: (off: number, data: Buffer) => Promise<void>): Promise<void> {
  const piece = Buffer.alloc(FILL_WRITE_BYTES);
  for (let off = 0; off < p.volumeBytes; off += FILL_WRITE_BYTES) {
    for (let at = 0; at < FILL_WRITE_BYTES; at += p.ioBytes) block(w, p, (off + at) / p.ioBytes).copy(piece, at);
    await write(off, piece.subarray(0, Math.min(FILL_WRITE_BYTES, p.volumeBytes - off)));
    ctx.progress(off + FILL_WRITE_BYTES, p.volumeBytes, `${label}: fill`);
  }
}

interface LsaRun extends Timing {
  utilization: number;
  segmentsCollected: number;
  movedBytes: number;
  hostBytes: number;
}

async function lsaRun(ctx: ScenarioContext, dir: string, p: RandWriteParams, w: Workload): Promise<LsaRun> {
  const { engine, volume } = await createBenchVolume(dir, geometryAtUtilization(p.volumeBytes, p.utilization, p.disks), p.volumeBytes);
  try {
    const write = (k: number): Promise<void> => volume.write(w.offsets[k], block(w, p, k));
    const flush = (): Promise<void> => volume.flush();
    await fill(ctx, 'lsa', p, w, (off, data) => volume.write(off, data));
    await flush();
    // the warm-up flushes once at its end: it only has to bring the array to steady state
    await drive(ctx, 'lsa: warm-up', p, w, 0, p.warmupWrites, write, async () => {});
    await flush();
    const s0 = { ...engine.stats };
    const t = await drive(ctx, 'lsa', p, w, p.warmupWrites, p.warmupWrites + p.writes, write, flush);
    return {
      ...t,
      utilization: p.volumeBytes / usableBytes(engine),
      segmentsCollected: engine.stats.segmentsCollected - s0.segmentsCollected,
      movedBytes: engine.stats.gcBytesMoved - s0.gcBytesMoved,
      hostBytes: engine.stats.hostBytesWritten - s0.hostBytesWritten,
    };
  } finally {
    await engine.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function rawRun(ctx: ScenarioContext, file: string, p: RandWriteParams, w: Workload): Promise<Timing> {
  const f = RawFile.create(file, p.volumeBytes);
  try {
    await fill(ctx, 'raw file', p, w, (off, data) => f.write(data, off));
    await f.fdatasync();
    return await drive(ctx, 'raw file', p, w, p.warmupWrites, p.warmupWrites + p.writes, (k) => f.write(block(w, p, k), w.offsets[k]), () => f.fdatasync());
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
  title: '4 KiB random writes, 32 in flight, flush per 32, on a volume at utilization 0.8 (collector at work)',
  measures: 'system',
  baseline: 'a plain file of the volume size written whole, then the same offsets and bytes with positional fs.write (32 in flight), fdatasync after every 32, in the same run (the order alternates between runs)',
  target: 'no throughput target (step 1 asks only that it be reported); the timed part must have the collector at work: segmentsCollected > 0 in every run',
  metrics: [
    { key: 'lsaIops', unit: 'IOPS', description: 'writes / time from the first write to the last flush' },
    { key: 'rawIops', unit: 'IOPS', description: 'writes / time from the first write to the last fdatasync' },
    { key: 'ratio', unit: '', description: 'lsaIops / rawIops of the same run' },
    { key: 'p50Ms', unit: 'ms', description: 'LSA: median time from issuing a window of 32 writes to the end of its flush' },
    { key: 'p99Ms', unit: 'ms', description: 'LSA: 99th percentile of the same' },
    { key: 'rawP50Ms', unit: 'ms', description: 'plain file: median time from issuing 32 writes to the end of their fdatasync' },
    { key: 'rawP99Ms', unit: 'ms', description: 'plain file: 99th percentile of the same' },
    { key: 'utilization', unit: '', description: 'volume bytes / usable bytes of the array (whole segments)' },
    { key: 'segmentsCollected', unit: 'segments', description: 'segments the collector freed during the timed writes' },
    { key: 'writeAmplification', unit: '', description: '(host bytes + bytes moved by the collector) / host bytes, over the timed writes' },
  ],
  // each run has its own warm-up phase
  warmupRuns: { tiny: 0, quick: 0, full: 0 },
  sizes: {
    // warm-up: twice the volume's tracks, so the timed writes see the steady state of uniform
    // random overwrites (as the gc scenario measures it); then the timed writes
    tiny: { volumeBytes: 16 * MIB, utilization: 0.8, warmupWrites: 8192, writes: 2048, ioBytes: 4096, queueDepth: 32, disks: 5 },
    quick: { volumeBytes: 256 * MIB, utilization: 0.8, warmupWrites: 131072, writes: 32768, ioBytes: 4096, queueDepth: 32, disks: 5 },
    full: { volumeBytes: 1024 * MIB, utilization: 0.8, warmupWrites: 524288, writes: 131072, ioBytes: 4096, queueDepth: 32, disks: 5 },
  },

  async prepare(ctx, p): Promise<Trial> {
    const blocks = DATA_BLOCKS_MAX;
    const data = randomBytes(blocks * p.ioBytes, ctx.seed);
    const slots = p.volumeBytes / p.ioBytes;
    return {
      async run(index) {
        const rng = new Prng((ctx.seed + 0x9e3779b9 * (index + 1)) >>> 0);
        const w: Workload = { offsets: Array.from({ length: p.warmupWrites + p.writes }, () => rng.int(slots) * p.ioBytes), data, blocks };
        const lsaDir = path.join(ctx.workDir, `array-${index}`);
        const rawFile = path.join(ctx.workDir, `raw-${index}.img`);
        let lsa: LsaRun;
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
          metrics: {
            lsaIops, rawIops, ratio: lsaIops / rawIops, p50Ms: l.p50, p99Ms: l.p99, rawP50Ms: r.p50, rawP99Ms: r.p99,
            utilization: lsa.utilization, segmentsCollected: lsa.segmentsCollected, writeAmplification: (lsa.hostBytes + lsa.movedBytes) / lsa.hostBytes,
          },
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
    utilization: s.metrics.utilization.median,
    segmentsCollected: s.metrics.segmentsCollected.median,
    writeAmplification: s.metrics.writeAmplification.median,
  }),

  judge: (s, _p, runs) => verdictOf([
    check('segmentsCollected', s.metrics.segmentsCollected.min, '>', 0, `fewest of ${runs} runs: the collector worked during the timed writes`),
  ]),

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
