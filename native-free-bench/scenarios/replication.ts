// replication: what the remote copy costs the host, and how long a resync takes. The same
// write workloads run on a primary with no secondary, with an async secondary and with a sync
// secondary (over TLS, the default), and with the same two over a plain link
// (--replica-tls off), in the same run: 4 KiB random writes, 32 in flight, a flush after every
// 32; and 1 MiB sequential writes, 4 in flight, a flush after every 32. Then a resync after an
// outage in which 1% and 10% of a filled volume's tracks changed. The targets are judged with
// TLS on; the plain numbers beside them show what TLS costs.
//
// The primary runs in this process, the secondary is a real `lsa serve --replica-listen` child
// process, and they talk over loopback TCP through the real remote copy
// (harness/replication-pair.ts): real files, real SQLite and real sockets on both sides. Both
// share this machine's cores and disk, which a pair on two machines would not: the ratios are
// a floor for that case.
//
// Every configuration starts with WARMUP_WRITES untimed 4 KiB writes and waits until the pair is
// in sync: the secondary is a fresh process for each configuration, and its first updates would
// otherwise pay for its JIT warm-up and first segments inside a timed window of half a second
// (quick), which a long-running pair never pays. The no-secondary case warms up the same way.
//
// The targets are judged on the 4 KiB random workload (flush-bound, like a database). The
// sequential ratios are reported beside them without a target: 1 MiB writes, 4 in flight, are
// bound by disk bandwidth here, and both arrays write to the same disk; in sync mode each group
// of 4 waits for the secondary to write and sync 4 MiB before the host may send more.

import * as path from 'node:path';
import * as fs from 'node:fs';
import { Prng } from '../../src/util/prng';
import { benchGeometry } from '../harness/array-size';
import { randomBytes } from '../harness/random-data';
import { ReplicationBenchPair, type PairMode } from '../harness/replication-pair';
import { check, defineScenario, verdictOf, type ScenarioContext, type Summary, type Trial } from '../harness/scenario';
import { MIB, mibPerSecond, nowMs } from '../harness/timing';

type ReplicationParams = {
  /** Volume of the write workloads. */
  volumeBytes: number;
  randWrites: number;
  seqBytes: number;
  /** Volume filled once for the resync measurements. */
  resyncVolumeBytes: number;
  disks: number;
};

const IO_BYTES = 4096;
const RAND_DEPTH = 32;
const SEQ_WRITE_BYTES = MIB;
const SEQ_DEPTH = 4;
const FLUSH_EVERY = 32;
const FILL_WRITE_BYTES = 8 * MIB;
/** Untimed 4 KiB writes before the timed ones, in every configuration (see above). */
const WARMUP_WRITES = 1024;
const TARGET_ASYNC_RATIO = 0.7;
const TARGET_SYNC_RATIO = 0.4;
/** A resync may ship this much more than the changed tracks (headers are not counted). */
const TARGET_RESYNC_BYTES_RATIO = 1.1;
const MODES: PairMode[] = ['none', 'async', 'sync', 'async-plain', 'sync-plain'];
const CHANGED_PERCENT = [1, 10] as const;

interface WorkloadTimes {
  randMs: number;
  seqMs: number;
  /** After the workload: until the secondary has applied everything (0 without one). */
  drainMs: number;
}

/** Issues `total` operations `depth` at a time, a flush after every `flushEvery`. */
async function windows(total: number, depth: number, op: (k: number) => Promise<void>, flush: () => Promise<void>): Promise<void> {
  let sinceFlush = 0;
  for (let first = 0; first < total; first += depth) {
    const inFlight: Promise<void>[] = [];
    for (let k = first; k < Math.min(total, first + depth); k++) inFlight.push(op(k));
    await Promise.all(inFlight);
    sinceFlush += inFlight.length;
    if (sinceFlush >= FLUSH_EVERY) {
      await flush();
      sinceFlush = 0;
    }
  }
  await flush();
}

async function workload(ctx: ScenarioContext, dir: string, p: ReplicationParams, mode: PairMode, offsets: number[], data: Buffer): Promise<WorkloadTimes> {
  const geometry = benchGeometry(p.volumeBytes, (Math.min(WARMUP_WRITES, p.randWrites) + p.randWrites) * IO_BYTES + p.seqBytes, p.disks);
  const pair = await ReplicationBenchPair.create(dir, geometry, p.volumeBytes, mode);
  try {
    const v = pair.primary.volume;
    const blocks = Math.floor(data.length / IO_BYTES);
    const write4k = (offset: number, k: number): Promise<void> => v.write(offset, data.subarray((k % blocks) * IO_BYTES, (k % blocks + 1) * IO_BYTES));
    ctx.progress(0, 3, `${mode}: warm-up`);
    const warmup = Math.min(WARMUP_WRITES, p.randWrites);
    await windows(warmup, RAND_DEPTH, (k) => write4k(offsets[offsets.length - 1 - k], k), () => v.flush());
    await pair.waitInSync();
    ctx.progress(1, 3, `${mode}: random writes`);
    let t0 = nowMs();
    await windows(p.randWrites, RAND_DEPTH, (k) => write4k(offsets[k], k), () => v.flush());
    const randMs = nowMs() - t0;
    ctx.progress(2, 3, `${mode}: sequential writes`);
    const seqWrites = p.seqBytes / SEQ_WRITE_BYTES;
    const seqBlocks = Math.floor(data.length / SEQ_WRITE_BYTES);
    t0 = nowMs();
    await windows(seqWrites, SEQ_DEPTH, (k) => v.write(k * SEQ_WRITE_BYTES, data.subarray((k % seqBlocks) * SEQ_WRITE_BYTES, (k % seqBlocks + 1) * SEQ_WRITE_BYTES)), () => v.flush());
    const seqMs = nowMs() - t0;
    t0 = nowMs();
    await pair.waitInSync();
    return { randMs, seqMs, drainMs: nowMs() - t0 };
  } finally {
    await pair.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface ResyncState {
  pair: ReplicationBenchPair;
  tracks: number;
}

/** Changes `percent`% of the tracks (distinct, random) with the link down, then times the
 * resync from reconnecting to duplex with everything applied. */
async function resync(state: ResyncState, percent: number, rng: Prng, data: Buffer): Promise<{ ms: number; bytesRatio: number; tracks: number }> {
  const { pair, tracks } = state;
  await pair.disconnect();
  const changed = new Set<number>();
  const want = Math.max(1, Math.round((tracks * percent) / 100));
  while (changed.size < want) changed.add(rng.int(tracks));
  const v = pair.primary.volume;
  const blocks = Math.floor(data.length / IO_BYTES);
  const list = [...changed];
  await windows(list.length, RAND_DEPTH, (k) => v.write(list[k] * IO_BYTES, data.subarray((k % blocks) * IO_BYTES, (k % blocks + 1) * IO_BYTES)), () => v.flush());
  const t0 = nowMs();
  pair.connect();
  await pair.waitInSync();
  const ms = nowMs() - t0;
  const shipped = pair.status().reduce((n, s) => n + s.bytesShipped, 0);
  return { ms, bytesRatio: shipped / (want * IO_BYTES), tracks: want };
}

function ratioOf(s: Summary, key: string): number {
  return s.metrics[key].median;
}

export const replication = defineScenario<ReplicationParams>({
  name: 'replication',
  title: 'remote copy: host writes with no, an async and a sync secondary; resync after an outage',
  measures: 'system',
  baseline: 'the same writes on the same kind of fresh array with no secondary, in the same run (the order of the five configurations rotates between runs); the primary runs in the harness, the secondary is an `lsa serve` child process on loopback TCP, on the same disk',
  target: `asyncRatio >= ${TARGET_ASYNC_RATIO} and syncRatio >= ${TARGET_SYNC_RATIO} with TLS on (medians, 4 KiB random writes; the plain-link and sequential ratios are informational); resync ships at most ${TARGET_RESYNC_BYTES_RATIO} x the changed tracks' bytes (worst run)`,
  metrics: [
    { key: 'noneIops', unit: 'IOPS', description: '4 KiB random writes (32 in flight, flush per 32), no secondary' },
    { key: 'asyncIops', unit: 'IOPS', description: 'the same with an async secondary (host-visible: writes and flushes acknowledged)' },
    { key: 'syncIops', unit: 'IOPS', description: 'the same with a sync secondary' },
    { key: 'noneSeqMiBps', unit: 'MiB/s', description: '1 MiB sequential writes (4 in flight, flush per 32), no secondary' },
    { key: 'asyncSeqMiBps', unit: 'MiB/s', description: 'the same with an async secondary' },
    { key: 'syncSeqMiBps', unit: 'MiB/s', description: 'the same with a sync secondary' },
    { key: 'asyncPlainIops', unit: 'IOPS', description: 'async, the link without TLS (--replica-tls off)' },
    { key: 'syncPlainIops', unit: 'IOPS', description: 'sync, the link without TLS' },
    { key: 'asyncPlainSeqMiBps', unit: 'MiB/s', description: '1 MiB sequential writes, async, without TLS' },
    { key: 'syncPlainSeqMiBps', unit: 'MiB/s', description: '1 MiB sequential writes, sync, without TLS' },
    { key: 'randAsyncRatio', unit: '', description: 'asyncIops / noneIops of the same run (result: asyncRatio)' },
    { key: 'randSyncRatio', unit: '', description: 'syncIops / noneIops of the same run (result: syncRatio)' },
    { key: 'randAsyncPlainRatio', unit: '', description: 'asyncPlainIops / noneIops of the same run (result: asyncPlainRatio)' },
    { key: 'randSyncPlainRatio', unit: '', description: 'syncPlainIops / noneIops of the same run (result: syncPlainRatio)' },
    { key: 'seqAsyncRatio', unit: '', description: 'asyncSeqMiBps / noneSeqMiBps of the same run' },
    { key: 'seqSyncRatio', unit: '', description: 'syncSeqMiBps / noneSeqMiBps of the same run' },
    { key: 'seqAsyncPlainRatio', unit: '', description: 'asyncPlainSeqMiBps / noneSeqMiBps of the same run' },
    { key: 'seqSyncPlainRatio', unit: '', description: 'syncPlainSeqMiBps / noneSeqMiBps of the same run' },
    { key: 'asyncDrainMs', unit: 'ms', description: 'async: from the last flush to the secondary having applied everything' },
    { key: 'resync1Ms', unit: 'ms', description: 'resync after 1% of the tracks changed: reconnect to duplex with everything applied' },
    { key: 'resync10Ms', unit: 'ms', description: 'the same after 10% changed' },
    { key: 'resync1BytesRatio', unit: '', description: 'data bytes shipped by the 1% resync / (changed tracks x track size)' },
    { key: 'resync10BytesRatio', unit: '', description: 'the same for 10%' },
  ],
  sizes: {
    tiny: { volumeBytes: 16 * MIB, randWrites: 256, seqBytes: 8 * MIB, resyncVolumeBytes: 16 * MIB, disks: 5 },
    quick: { volumeBytes: 256 * MIB, randWrites: 16384, seqBytes: 128 * MIB, resyncVolumeBytes: 256 * MIB, disks: 5 },
    full: { volumeBytes: 1024 * MIB, randWrites: 16384, seqBytes: 512 * MIB, resyncVolumeBytes: 1024 * MIB, disks: 5 },
  },

  async prepare(ctx, p): Promise<Trial> {
    // cycled through by the writes: at least a fill write, at most 64 MiB
    const data = randomBytes(Math.min(64 * MIB, Math.max(FILL_WRITE_BYTES, p.seqBytes)), ctx.seed);
    // the volume for the resyncs: filled once, mirrored, kept across runs
    ctx.progress(0, 1, 'filling the resync volume');
    const geometry = benchGeometry(p.resyncVolumeBytes, p.resyncVolumeBytes * 2, p.disks);
    const pair = await ReplicationBenchPair.create(path.join(ctx.workDir, 'resync'), geometry, p.resyncVolumeBytes, 'async');
    const fillStart = nowMs();
    const fill = randomBytes(FILL_WRITE_BYTES, ctx.seed + 1);
    for (let off = 0; off < p.resyncVolumeBytes; off += FILL_WRITE_BYTES) {
      await pair.primary.volume.write(off, fill.subarray(0, Math.min(FILL_WRITE_BYTES, p.resyncVolumeBytes - off)));
    }
    await pair.waitInSync();
    const fillMs = nowMs() - fillStart;
    const state: ResyncState = { pair, tracks: p.resyncVolumeBytes / IO_BYTES };
    return {
      setup: { resyncFillMs: Math.round(fillMs), resyncTracks: state.tracks },
      async run(index) {
        const rng = new Prng((ctx.seed + 0x9e3779b9 * (index + 1)) >>> 0);
        const slots = p.volumeBytes / IO_BYTES;
        const offsets = Array.from({ length: p.randWrites }, () => rng.int(slots) * IO_BYTES);
        const times = new Map<PairMode, WorkloadTimes>();
        for (let i = 0; i < MODES.length; i++) {
          const mode = MODES[(i + index) % MODES.length];
          times.set(mode, await workload(ctx, path.join(ctx.workDir, `${mode}-${index}`), p, mode, offsets, data));
        }
        const iops = (m: PairMode): number => p.randWrites / (times.get(m)!.randMs / 1000);
        const seq = (m: PairMode): number => mibPerSecond(p.seqBytes, times.get(m)!.seqMs);
        const metrics: Record<string, number> = {
          noneIops: iops('none'), asyncIops: iops('async'), syncIops: iops('sync'),
          noneSeqMiBps: seq('none'), asyncSeqMiBps: seq('async'), syncSeqMiBps: seq('sync'),
          asyncPlainIops: iops('async-plain'), syncPlainIops: iops('sync-plain'),
          asyncPlainSeqMiBps: seq('async-plain'), syncPlainSeqMiBps: seq('sync-plain'),
          randAsyncRatio: iops('async') / iops('none'), randSyncRatio: iops('sync') / iops('none'),
          randAsyncPlainRatio: iops('async-plain') / iops('none'), randSyncPlainRatio: iops('sync-plain') / iops('none'),
          seqAsyncRatio: seq('async') / seq('none'), seqSyncRatio: seq('sync') / seq('none'),
          seqAsyncPlainRatio: seq('async-plain') / seq('none'), seqSyncPlainRatio: seq('sync-plain') / seq('none'),
          asyncDrainMs: times.get('async')!.drainMs,
        };
        for (const pct of CHANGED_PERCENT) {
          ctx.progress(0, 1, `resync after ${pct}% changed`);
          const r = await resync(state, pct, rng, data);
          metrics[`resync${pct}Ms`] = r.ms;
          metrics[`resync${pct}BytesRatio`] = r.bytesRatio;
        }
        return { metrics };
      },
      async dispose() {
        await pair.close();
      },
    };
  },

  result: (s) => ({
    asyncRatio: ratioOf(s, 'randAsyncRatio'),
    syncRatio: ratioOf(s, 'randSyncRatio'),
    asyncPlainRatio: ratioOf(s, 'randAsyncPlainRatio'),
    syncPlainRatio: ratioOf(s, 'randSyncPlainRatio'),
    seqAsyncRatio: ratioOf(s, 'seqAsyncRatio'),
    seqSyncRatio: ratioOf(s, 'seqSyncRatio'),
    seqAsyncPlainRatio: ratioOf(s, 'seqAsyncPlainRatio'),
    seqSyncPlainRatio: ratioOf(s, 'seqSyncPlainRatio'),
    noneIops: s.metrics.noneIops.median,
    asyncIops: s.metrics.asyncIops.median,
    syncIops: s.metrics.syncIops.median,
    resync1Ms: s.metrics.resync1Ms.median,
    resync10Ms: s.metrics.resync10Ms.median,
    resyncBytesRatio: Math.max(s.metrics.resync1BytesRatio.max, s.metrics.resync10BytesRatio.max),
  }),

  judge: (s, _p, runs) => verdictOf([
    check('asyncRatio', s.metrics.randAsyncRatio.median, '>=', TARGET_ASYNC_RATIO, `median of ${runs} runs, 4 KiB random`),
    check('syncRatio', s.metrics.randSyncRatio.median, '>=', TARGET_SYNC_RATIO, `median of ${runs} runs, 4 KiB random`),
    check('resyncBytesRatio', Math.max(s.metrics.resync1BytesRatio.max, s.metrics.resync10BytesRatio.max), '<=', TARGET_RESYNC_BYTES_RATIO, `worst of ${runs} runs, 1% and 10%`),
  ]),

  plot: (s) => [
    {
      kind: 'bars',
      title: '4 KiB random writes',
      unit: 'IOPS',
      bars: [
        { label: 'no secondary', role: 'baseline', ...s.metrics.noneIops },
        { label: 'async', role: 'ours', ...s.metrics.asyncIops },
        { label: 'sync', role: 'ours', ...s.metrics.syncIops },
        { label: 'async, no TLS', role: 'ours', ...s.metrics.asyncPlainIops },
        { label: 'sync, no TLS', role: 'ours', ...s.metrics.syncPlainIops },
      ],
    },
    {
      kind: 'bars',
      title: '1 MiB sequential writes',
      unit: 'MiB/s',
      bars: [
        { label: 'no secondary', role: 'baseline', ...s.metrics.noneSeqMiBps },
        { label: 'async', role: 'ours', ...s.metrics.asyncSeqMiBps },
        { label: 'sync', role: 'ours', ...s.metrics.syncSeqMiBps },
        { label: 'async, no TLS', role: 'ours', ...s.metrics.asyncPlainSeqMiBps },
        { label: 'sync, no TLS', role: 'ours', ...s.metrics.syncPlainSeqMiBps },
      ],
    },
    {
      kind: 'bars',
      title: 'with / without a secondary',
      unit: 'ratio',
      bars: [
        { label: 'async 4K', role: 'ours', ...s.metrics.randAsyncRatio },
        { label: 'sync 4K', role: 'ours', ...s.metrics.randSyncRatio },
        { label: 'async 1M', role: 'ours', ...s.metrics.seqAsyncRatio },
        { label: 'sync 1M', role: 'ours', ...s.metrics.seqSyncRatio },
      ],
      lines: [
        { label: 'async target', value: TARGET_ASYNC_RATIO },
        { label: 'sync target', value: TARGET_SYNC_RATIO },
      ],
    },
    {
      kind: 'bars',
      title: 'resync after an outage',
      unit: 'ms',
      bars: [
        { label: '1% changed', role: 'ours', ...s.metrics.resync1Ms },
        { label: '10% changed', role: 'ours', ...s.metrics.resync10Ms },
      ],
    },
  ],
});
