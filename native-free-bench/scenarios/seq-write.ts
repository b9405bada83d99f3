// seq-write: sequential 1 MiB writes through the Volume API and one flush, against the same
// bytes written to a plain file with fs and one fsync. An LSA with N data disks and one parity
// disk writes (N+1)/N bytes per host byte, so its best possible ratio is N/(N+1).
//
// The volume fills 80% of the array (utilization 0.8), and it is written twice: the first pass
// finds free segments; the second overwrites it, so the collector must free the segments the
// first pass left dead while the host writes (a sequential overwrite kills whole segments: the
// collector frees them without moving anything). Both passes are timed and judged against
// the step-1 baseline (a plain file written once, one fsync); the plain file overwritten in
// place is measured too and reported beside it: ext4 skips block allocation there, which makes
// it up to 2x faster than the first write on this machine.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { geometryAtUtilization } from '../harness/array-size';
import { createBenchVolume } from '../harness/bench-volume';
import { randomBytes } from '../harness/random-data';
import { RawFile } from '../harness/raw-file';
import { check, defineScenario, verdictOf, type ScenarioContext, type Trial } from '../harness/scenario';
import { MIB, mibPerSecond, timed } from '../harness/timing';

type SeqWriteParams = {
  totalBytes: number;
  writeBytes: number;
  disks: number;
};

/** The target: the LSA keeps at least this share of its ideal ratio. */
const TARGET_SHARE_OF_IDEAL = 0.7;

function idealRatio(p: SeqWriteParams): number {
  return (p.disks - 1) / p.disks;
}

/** The array holds the volume at this utilization: the overwrite needs the collector. */
const UTILIZATION = 0.8;

interface Passes {
  firstMs: number;
  overwriteMs: number;
  /** LSA only: what the collector did during the overwrite */
  segmentsCollected?: number;
  movedBytes?: number;
}

/** Writes the whole volume (or file) in 1 MiB pieces, then flushes; returns the time taken. */
function pass(ctx: ScenarioContext, label: string, p: SeqWriteParams, data: Buffer, write: (off: number, piece: Buffer) => Promise<void>, flush: () => Promise<void>): Promise<number> {
  return timed(async () => {
    for (let off = 0; off < p.totalBytes; off += p.writeBytes) {
      await write(off, data.subarray(off, off + p.writeBytes));
      ctx.progress(off + p.writeBytes, p.totalBytes, label);
    }
    await flush();
  });
}

async function lsaRun(ctx: ScenarioContext, dir: string, p: SeqWriteParams, data: Buffer): Promise<Passes> {
  const { engine, volume } = await createBenchVolume(dir, geometryAtUtilization(p.totalBytes, UTILIZATION, p.disks), p.totalBytes);
  try {
    const write = (off: number, piece: Buffer): Promise<void> => volume.write(off, piece);
    const flush = (): Promise<void> => volume.flush();
    const firstMs = await pass(ctx, 'lsa', p, data, write, flush);
    const s0 = { ...engine.stats };
    const overwriteMs = await pass(ctx, 'lsa: overwrite', p, data, write, flush);
    return { firstMs, overwriteMs, segmentsCollected: engine.stats.segmentsCollected - s0.segmentsCollected, movedBytes: engine.stats.gcBytesMoved - s0.gcBytesMoved };
  } finally {
    await engine.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function rawRun(ctx: ScenarioContext, file: string, p: SeqWriteParams, data: Buffer): Promise<Passes> {
  const f = RawFile.create(file);
  try {
    const write = (off: number, piece: Buffer): Promise<void> => f.write(piece, off);
    const flush = (): Promise<void> => f.fsync();
    const firstMs = await pass(ctx, 'raw file', p, data, write, flush);
    const overwriteMs = await pass(ctx, 'raw file: overwrite', p, data, write, flush);
    return { firstMs, overwriteMs };
  } finally {
    f.close();
    fs.rmSync(file, { force: true });
  }
}

export const seqWrite = defineScenario<SeqWriteParams>({
  name: 'seq-write',
  title: 'sequential 1 MiB writes, one flush; then the same again over the volume (utilization 0.8, collector at work)',
  measures: 'system',
  baseline: 'the same bytes written in the same 1 MiB pieces to a plain file with fs.write, then one fsync, twice (a new file, then over it), in the same run (the order alternates between runs)',
  target: `ratio and overwriteRatio >= ${TARGET_SHARE_OF_IDEAL} x idealRatio (idealRatio = N/(N+1) for N data disks), medians of the runs`,
  metrics: [
    { key: 'lsaMiBps', unit: 'MiB/s', description: 'host bytes / time from the first write to the end of the flush' },
    { key: 'rawMiBps', unit: 'MiB/s', description: 'bytes / time from the first write to the end of the fsync' },
    { key: 'ratio', unit: '', description: 'lsaMiBps / rawMiBps of the same run' },
    { key: 'idealRatio', unit: '', description: 'N/(N+1): the share of disk bandwidth left after parity' },
    { key: 'overwriteMiBps', unit: 'MiB/s', description: 'the second pass over the whole volume: host bytes / time to the end of its flush' },
    { key: 'rawOverwriteMiBps', unit: 'MiB/s', description: 'the second pass over the plain file, to the end of its fsync' },
    { key: 'overwriteRatio', unit: '', description: 'overwriteMiBps / rawMiBps of the same run: the step-1 target, with the collector at work' },
    { key: 'inPlaceRatio', unit: '', description: 'overwriteMiBps / rawOverwriteMiBps: against a file overwritten in place (ext4 skips block allocation there; informational)' },
    { key: 'segmentsCollected', unit: 'segments', description: 'segments the collector freed during the overwrite' },
    { key: 'movedMiB', unit: 'MiB', description: 'bytes the collector moved during the overwrite (sequential: none expected)' },
  ],
  sizes: {
    tiny: { totalBytes: 8 * MIB, writeBytes: MIB, disks: 5 },
    quick: { totalBytes: 256 * MIB, writeBytes: MIB, disks: 5 },
    full: { totalBytes: 1024 * MIB, writeBytes: MIB, disks: 5 },
  },

  async prepare(ctx, p): Promise<Trial> {
    ctx.progress(0, 1, 'generating data');
    const data = randomBytes(p.totalBytes, ctx.seed);
    return {
      async run(index) {
        const lsaDir = path.join(ctx.workDir, `array-${index}`);
        const rawFile = path.join(ctx.workDir, `raw-${index}.img`);
        let lsa: Passes;
        let raw: Passes;
        // alternate the order so neither side always runs on a disk busy with the other's writeback
        if (index % 2 === 0) {
          lsa = await lsaRun(ctx, lsaDir, p, data);
          raw = await rawRun(ctx, rawFile, p, data);
        } else {
          raw = await rawRun(ctx, rawFile, p, data);
          lsa = await lsaRun(ctx, lsaDir, p, data);
        }
        const lsaMiBps = mibPerSecond(p.totalBytes, lsa.firstMs);
        const rawMiBps = mibPerSecond(p.totalBytes, raw.firstMs);
        const overwriteMiBps = mibPerSecond(p.totalBytes, lsa.overwriteMs);
        const rawOverwriteMiBps = mibPerSecond(p.totalBytes, raw.overwriteMs);
        return {
          metrics: {
            lsaMiBps, rawMiBps, ratio: lsaMiBps / rawMiBps, idealRatio: idealRatio(p),
            overwriteMiBps, rawOverwriteMiBps, overwriteRatio: overwriteMiBps / rawMiBps, inPlaceRatio: overwriteMiBps / rawOverwriteMiBps,
            segmentsCollected: lsa.segmentsCollected!, movedMiB: lsa.movedBytes! / MIB,
          },
        };
      },
      async dispose() {},
    };
  },

  result: (s) => ({
    lsaMiBps: s.metrics.lsaMiBps.median,
    rawMiBps: s.metrics.rawMiBps.median,
    ratio: s.metrics.ratio.median,
    idealRatio: s.metrics.idealRatio.median,
    overwriteMiBps: s.metrics.overwriteMiBps.median,
    overwriteRatio: s.metrics.overwriteRatio.median,
    inPlaceRatio: s.metrics.inPlaceRatio.median,
    segmentsCollected: s.metrics.segmentsCollected.median,
  }),

  judge: (s, p, runs) => verdictOf([
    check('ratio', s.metrics.ratio.median, '>=', TARGET_SHARE_OF_IDEAL * idealRatio(p), `median of ${runs} runs`),
    check('overwriteRatio', s.metrics.overwriteRatio.median, '>=', TARGET_SHARE_OF_IDEAL * idealRatio(p), `median of ${runs} runs, collector at work`),
    check('segmentsCollected', s.metrics.segmentsCollected.min, '>', 0, `fewest of ${runs} runs: the overwrite needed the collector`),
  ]),

  plot: (s, p) => [
    {
      kind: 'bars',
      title: 'throughput',
      unit: 'MiB/s',
      bars: [
        { label: 'LSA volume', role: 'ours', ...s.metrics.lsaMiBps },
        { label: 'plain file', role: 'baseline', ...s.metrics.rawMiBps },
        { label: 'LSA overwrite', role: 'ours', ...s.metrics.overwriteMiBps },
        { label: 'file overwrite', role: 'baseline', ...s.metrics.rawOverwriteMiBps },
      ],
    },
    {
      kind: 'bars',
      title: 'LSA / plain file',
      unit: 'ratio',
      bars: [
        { label: 'first pass', role: 'ours', ...s.metrics.ratio },
        { label: 'overwrite', role: 'ours', ...s.metrics.overwriteRatio },
        { label: 'vs in place', role: 'ours', ...s.metrics.inPlaceRatio },
      ],
      lines: [
        { label: 'ideal', value: idealRatio(p) },
        { label: 'target', value: TARGET_SHARE_OF_IDEAL * idealRatio(p) },
      ],
    },
  ],
});
