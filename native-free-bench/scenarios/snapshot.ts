// snapshot: what the snapshot relay costs the primary and how long a snapshot takes.
//   latency: 4 KiB writes, one at a time at random track-aligned offsets, through the Volume API
//            of an in-process primary in sync mode (a write completes once the secondary, a
//            separate `lsa serve` process over TCP loopback, holds it durably); for the same
//            time without snapshots and with one snapshot (create --wait) every second. The
//            ratio of the 99th percentiles says whether snapshots disturb the host.
//   duration: create --wait of volumes whose directories have `smallTracks` and `largeTracks`
//            entries (100k and 1M: 400 MB and 4 GB volumes), every entry allocated (written as
//            zeroes that stay allocated, so setting them up takes seconds, not 4 GB of data;
//            a snapshot copies entries, not data, so its cost is the same).

import * as path from 'node:path';
import { DEFAULT_GEOMETRY, type Geometry } from '../../src/array/geometry';
import { Prng } from '../../src/util/prng';
import { volumeByName, type Volume } from '../../src/volume/volume';
import { startBenchPair, type BenchPair } from '../harness/bench-pair';
import { check, defineScenario, verdictOf, type ScenarioContext, type Trial } from '../harness/scenario';
import { quantileSorted } from '../harness/summarize';
import { MIB, nowMs } from '../harness/timing';
import { randomBytes } from '../harness/random-data';

type SnapshotParams = {
  latencyVolumeBytes: number;
  phaseMs: number;
  snapshotEveryMs: number;
  flushEvery: number;
  smallTracks: number;
  largeTracks: number;
  snapshotsPerSize: number;
  disks: number;
};

const P99_RATIO_MAX = 1.5;
const LARGE_SNAPSHOT_MS_MAX = 2000;
const TARGET_LARGE_TRACKS = 1_000_000;
const TRACK_BYTES = 4096;
const WRITE_BYTES = 4096;
const DATA_BLOCKS = 1024;

function geometryFor(p: SnapshotParams): Geometry {
  // sparse disk files: room for every volume's capacity (the secondary refuses to overcommit)
  const g = { ...DEFAULT_GEOMETRY, disks: p.disks, trackBytes: TRACK_BYTES };
  const volumeBytes = p.latencyVolumeBytes + (p.smallTracks + p.largeTracks) * TRACK_BYTES;
  const dataBytes = volumeBytes * 1.3 + 64 * MIB;
  const diskBytes = Math.ceil(dataBytes / (p.disks - 1) / (64 * MIB)) * 64 * MIB;
  return { ...g, diskBytes };
}

interface Phase {
  latencyMs: number[];
  snapshots: number;
  snapshotMs: number[];
}

/** Writes for `phaseMs`, one at a time; with `everyMs`, a snapshot of `lat` that often. */
async function writePhase(ctx: ScenarioContext, pair: BenchPair, v: Volume, p: SnapshotParams, rng: Prng, data: Buffer, everyMs: number | null, label: string): Promise<Phase> {
  const slots = v.sizeBytes / WRITE_BYTES;
  const latencyMs: number[] = [];
  const snapshotMs: number[] = [];
  let snapshotError: string | null = null;
  let stop = false;
  const snapshots = (async () => {
    if (everyMs === null) return;
    let next = nowMs() + everyMs;
    while (!stop) {
      await new Promise((r) => setTimeout(r, Math.max(0, next - nowMs())));
      if (stop) return;
      next += everyMs;
      const t0 = nowMs();
      const r = await pair.post('/volumes/lat/snapshots', { name: 'bench', replace: true, wait: true, timeoutMs: 60_000 });
      if (r.status !== 201) snapshotError = `snapshot refused (${r.status}): ${String(r.json.error)}`;
      snapshotMs.push(nowMs() - t0);
    }
  })();
  const end = nowMs() + p.phaseMs;
  let k = 0;
  while (nowMs() < end) {
    const off = rng.int(slots) * WRITE_BYTES;
    const b = k % DATA_BLOCKS;
    const t0 = nowMs();
    await v.write(off, data.subarray(b * WRITE_BYTES, (b + 1) * WRITE_BYTES));
    latencyMs.push(nowMs() - t0);
    if (++k % p.flushEvery === 0) await v.flush();
    if (k % 64 === 0) ctx.progress(p.phaseMs - (end - nowMs()), p.phaseMs, label);
  }
  stop = true;
  await snapshots;
  await v.flush();
  if (snapshotError) throw new Error(snapshotError);
  return { latencyMs, snapshots: snapshotMs.length, snapshotMs };
}

/** create --wait of a volume, `times` times: host-visible ms and the secondary's own ms. */
async function snapshotTimes(pair: BenchPair, volume: string, times: number): Promise<{ ms: number[]; secondaryMs: number[]; entries: number }> {
  const ms: number[] = [];
  const secondaryMs: number[] = [];
  let entries = 0;
  for (let i = 0; i < times; i++) {
    const t0 = nowMs();
    const r = await pair.post(`/volumes/${volume}/snapshots`, { name: 'bench', replace: true, wait: true, timeoutMs: 600_000 });
    ms.push(nowMs() - t0);
    if (r.status !== 201) throw new Error(`snapshot of ${volume} refused (${r.status}): ${String(r.json.error)}`);
    secondaryMs.push(Number(r.json.durationMs));
    entries = Number(r.json.entries);
  }
  return { ms, secondaryMs, entries };
}

function sortedQuantile(values: number[], q: number): number {
  return quantileSorted([...values].sort((a, b) => a - b), q);
}

function median(values: number[]): number {
  return sortedQuantile(values, 0.5);
}

export const snapshot = defineScenario<SnapshotParams>({
  name: 'snapshot',
  title: 'snapshot relay: primary write latency with a snapshot every second, and snapshot duration by directory size',
  measures: 'system',
  baseline: 'the same 4 KiB sync-mode writes for the same time without snapshots, in the same run (the order alternates between runs)',
  target: `p99Ratio <= ${P99_RATIO_MAX} (write p99 with snapshots / without, median of the runs) and a snapshot of ${TARGET_LARGE_TRACKS} entries in < ${LARGE_SNAPSHOT_MS_MAX} ms (median; checked only when largeTracks is ${TARGET_LARGE_TRACKS}, quick and full)`,
  metrics: [
    { key: 'p50Ms', unit: 'ms', description: 'write latency, median, with a snapshot every second' },
    { key: 'p99Ms', unit: 'ms', description: 'write latency, 99th percentile, with a snapshot every second' },
    { key: 'baseP50Ms', unit: 'ms', description: 'write latency, median, without snapshots' },
    { key: 'baseP99Ms', unit: 'ms', description: 'write latency, 99th percentile, without snapshots' },
    { key: 'p99Ratio', unit: '', description: 'p99Ms / baseP99Ms of the same run' },
    { key: 'snapshotsTaken', unit: '', description: 'snapshots taken during the phase with snapshots' },
    { key: 'snapshotSmallMs', unit: 'ms', description: 'create --wait of the smallTracks volume, host-visible (median of the run)' },
    { key: 'snapshotLargeMs', unit: 'ms', description: 'create --wait of the largeTracks volume, host-visible (median of the run)' },
    { key: 'secondaryLargeMs', unit: 'ms', description: 'the same as the secondary reports it (barrier wait, directory copy, file written and synced)' },
  ],
  sizes: {
    tiny: { latencyVolumeBytes: 8 * MIB, phaseMs: 400, snapshotEveryMs: 150, flushEvery: 64, smallTracks: 10_000, largeTracks: 50_000, snapshotsPerSize: 1, disks: 5 },
    quick: { latencyVolumeBytes: 256 * MIB, phaseMs: 5000, snapshotEveryMs: 1000, flushEvery: 64, smallTracks: 100_000, largeTracks: 1_000_000, snapshotsPerSize: 3, disks: 5 },
    full: { latencyVolumeBytes: 1024 * MIB, phaseMs: 20_000, snapshotEveryMs: 1000, flushEvery: 64, smallTracks: 100_000, largeTracks: 1_000_000, snapshotsPerSize: 5, disks: 5 },
  },
  warmupRuns: { quick: 0 },

  async prepare(ctx, p): Promise<Trial> {
    ctx.progress(0, 3, 'starting the pair');
    const pair = await startBenchPair(path.join(ctx.workDir, 'pair'), geometryFor(p), [
      ['lat', p.latencyVolumeBytes], ['dsmall', p.smallTracks * TRACK_BYTES], ['dlarge', p.largeTracks * TRACK_BYTES],
    ]);
    try {
      await pair.waitDuplex();
      ctx.progress(1, 3, 'allocating every directory entry');
      const t0 = nowMs();
      for (const name of ['dsmall', 'dlarge']) {
        const v = volumeByName(pair.engine, name);
        await v.writeZeroes(0, v.sizeBytes, { noHole: true });
      }
      await pair.waitDuplex();
      const fillMs = nowMs() - t0;
      ctx.progress(2, 3, 'first snapshots');
      await snapshotTimes(pair, 'dsmall', 1);
      await snapshotTimes(pair, 'dlarge', 1);
      ctx.progress(3, 3, 'ready');
      const data = randomBytes(DATA_BLOCKS * WRITE_BYTES, ctx.seed);
      const lat = volumeByName(pair.engine, 'lat');
      return {
        setup: { fillEntriesMs: Math.round(fillMs), smallTracks: p.smallTracks, largeTracks: p.largeTracks, path: 'Volume API of an in-process primary, sync mode; secondary: lsa serve child over TCP loopback' },
        async run(index) {
          const rng = new Prng((ctx.seed + 0x9e3779b9 * (index + 1)) >>> 0);
          let base: Phase;
          let snap: Phase;
          if (index % 2 === 0) {
            base = await writePhase(ctx, pair, lat, p, rng, data, null, 'writes, no snapshots');
            snap = await writePhase(ctx, pair, lat, p, rng, data, p.snapshotEveryMs, 'writes, a snapshot every second');
          } else {
            snap = await writePhase(ctx, pair, lat, p, rng, data, p.snapshotEveryMs, 'writes, a snapshot every second');
            base = await writePhase(ctx, pair, lat, p, rng, data, null, 'writes, no snapshots');
          }
          await pair.waitDuplex();
          const small = await snapshotTimes(pair, 'dsmall', p.snapshotsPerSize);
          const large = await snapshotTimes(pair, 'dlarge', p.snapshotsPerSize);
          const p99 = sortedQuantile(snap.latencyMs, 0.99);
          const baseP99 = sortedQuantile(base.latencyMs, 0.99);
          return {
            metrics: {
              p50Ms: median(snap.latencyMs), p99Ms: p99, baseP50Ms: median(base.latencyMs), baseP99Ms: baseP99, p99Ratio: p99 / baseP99,
              snapshotsTaken: snap.snapshots, snapshotSmallMs: median(small.ms), snapshotLargeMs: median(large.ms), secondaryLargeMs: median(large.secondaryMs),
            },
            series: { baseLatencyMs: base.latencyMs, snapLatencyMs: snap.latencyMs, snapshotMs: snap.snapshotMs },
          };
        },
        async dispose() {
          await pair.close();
        },
      };
    } catch (err) {
      await pair.close().catch(() => undefined);
      throw err;
    }
  },

  result: (s, p) => ({
    p50Ms: s.metrics.p50Ms.median,
    p99Ms: s.metrics.p99Ms.median,
    baseP50Ms: s.metrics.baseP50Ms.median,
    baseP99Ms: s.metrics.baseP99Ms.median,
    p99Ratio: s.metrics.p99Ratio.median,
    smallTracks: p.smallTracks,
    largeTracks: p.largeTracks,
    snapshotSmallMs: s.metrics.snapshotSmallMs.median,
    snapshotLargeMs: s.metrics.snapshotLargeMs.median,
  }),

  judge: (s, p, runs) => verdictOf([
    check('p99Ratio', s.metrics.p99Ratio.median, '<=', P99_RATIO_MAX, `median of ${runs} runs`),
    ...(p.largeTracks >= TARGET_LARGE_TRACKS ? [check('snapshotLargeMs', s.metrics.snapshotLargeMs.median, '<', LARGE_SNAPSHOT_MS_MAX, `median of ${runs} runs, ${p.largeTracks} entries`)] : []),
  ]),

  plot: (s, p) => [
    {
      kind: 'cdf',
      title: '4 KiB write latency (sync)',
      unit: 'ms',
      series: [
        { label: 'snapshot every second', role: 'ours', quantiles: s.distributions.snapLatencyMs.quantiles },
        { label: 'no snapshots', role: 'baseline', quantiles: s.distributions.baseLatencyMs.quantiles },
      ],
    },
    {
      kind: 'bars',
      title: 'snapshot create --wait',
      unit: 'ms',
      bars: [
        { label: `${p.smallTracks} entries`, role: 'baseline', ...s.metrics.snapshotSmallMs },
        { label: `${p.largeTracks} entries`, role: 'ours', ...s.metrics.snapshotLargeMs },
      ],
      lines: p.largeTracks >= TARGET_LARGE_TRACKS ? [{ label: 'target', value: LARGE_SNAPSHOT_MS_MAX }] : [],
    },
  ],
});
