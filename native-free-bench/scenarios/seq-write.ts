// seq-write: sequential 1 MiB writes through the Volume API and one flush, against the same
// bytes written to a plain file with fs and one fsync. An LSA with N data disks and one parity
// disk writes (N+1)/N bytes per host byte, so its best possible ratio is N/(N+1).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { benchGeometry } from '../harness/array-size';
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

async function lsaRun(ctx: ScenarioContext, dir: string, p: SeqWriteParams, data: Buffer): Promise<number> {
  const { engine, volume } = await createBenchVolume(dir, benchGeometry(p.totalBytes, p.totalBytes, p.disks), p.totalBytes);
  try {
    return await timed(async () => {
      for (let off = 0; off < p.totalBytes; off += p.writeBytes) {
        await volume.write(off, data.subarray(off, off + p.writeBytes));
        ctx.progress(off + p.writeBytes, p.totalBytes, 'lsa');
      }
      await volume.flush();
    });
  } finally {
    await engine.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function rawRun(ctx: ScenarioContext, file: string, p: SeqWriteParams, data: Buffer): Promise<number> {
  const f = RawFile.create(file);
  try {
    return await timed(async () => {
      for (let off = 0; off < p.totalBytes; off += p.writeBytes) {
        await f.write(data.subarray(off, off + p.writeBytes), off);
        ctx.progress(off + p.writeBytes, p.totalBytes, 'raw file');
      }
      await f.fsync();
    });
  } finally {
    f.close();
    fs.rmSync(file, { force: true });
  }
}

export const seqWrite = defineScenario<SeqWriteParams>({
  name: 'seq-write',
  title: 'sequential 1 MiB writes, one flush',
  measures: 'system',
  baseline: 'the same bytes written in the same 1 MiB pieces to a plain file with fs.write, then one fsync, in the same run (the order alternates between runs)',
  target: `ratio >= ${TARGET_SHARE_OF_IDEAL} x idealRatio (idealRatio = N/(N+1) for N data disks), median of the runs`,
  metrics: [
    { key: 'lsaMiBps', unit: 'MiB/s', description: 'host bytes / time from the first write to the end of the flush' },
    { key: 'rawMiBps', unit: 'MiB/s', description: 'bytes / time from the first write to the end of the fsync' },
    { key: 'ratio', unit: '', description: 'lsaMiBps / rawMiBps of the same run' },
    { key: 'idealRatio', unit: '', description: 'N/(N+1): the share of disk bandwidth left after parity' },
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
        let lsaMs = 0;
        let rawMs = 0;
        // alternate the order so neither side always runs on a disk busy with the other's writeback
        if (index % 2 === 0) {
          lsaMs = await lsaRun(ctx, lsaDir, p, data);
          rawMs = await rawRun(ctx, rawFile, p, data);
        } else {
          rawMs = await rawRun(ctx, rawFile, p, data);
          lsaMs = await lsaRun(ctx, lsaDir, p, data);
        }
        const lsaMiBps = mibPerSecond(p.totalBytes, lsaMs);
        const rawMiBps = mibPerSecond(p.totalBytes, rawMs);
        return { metrics: { lsaMiBps, rawMiBps, ratio: lsaMiBps / rawMiBps, idealRatio: idealRatio(p) } };
      },
      async dispose() {},
    };
  },

  result: (s) => ({
    lsaMiBps: s.metrics.lsaMiBps.median,
    rawMiBps: s.metrics.rawMiBps.median,
    ratio: s.metrics.ratio.median,
    idealRatio: s.metrics.idealRatio.median,
  }),

  judge: (s, p, runs) => verdictOf([check('ratio', s.metrics.ratio.median, '>=', TARGET_SHARE_OF_IDEAL * idealRatio(p), `median of ${runs} runs`)]),

  plot: (s, p) => [
    {
      kind: 'bars',
      title: 'throughput',
      unit: 'MiB/s',
      bars: [
        { label: 'LSA volume', role: 'ours', ...s.metrics.lsaMiBps },
        { label: 'plain file', role: 'baseline', ...s.metrics.rawMiBps },
      ],
    },
    {
      kind: 'bars',
      title: 'LSA / plain file',
      unit: 'ratio',
      bars: [{ label: 'ratio', role: 'ours', ...s.metrics.ratio }],
      lines: [
        { label: 'ideal', value: idealRatio(p) },
        { label: 'target', value: TARGET_SHARE_OF_IDEAL * idealRatio(p) },
      ],
    },
  ],
});
