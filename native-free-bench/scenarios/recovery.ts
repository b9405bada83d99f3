// recovery: after a crash, how long does opening take (recovery on open), and how long does
// rebuilding the directory from the records take (lsa recover --rebuild-directory), for a small
// and a 10x larger volume; printed with the growth ratio (linear growth: ratio = 10).
// Baselines, in the same child just before: reading nvram.sqlite sequentially (open), and
// reading every disk file sequentially (rebuild: the bytes a full scan has to read).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { benchGeometry } from '../harness/array-size';
import { createBenchVolume } from '../harness/bench-volume';
import { childScript, runNodeChild } from '../harness/node-child';
import { randomBytes } from '../harness/random-data';
import { check, defineScenario, verdictOf, type ScenarioContext, type Trial } from '../harness/scenario';
import { MIB, timed } from '../harness/timing';
import { NVRAM_FILE } from '../../src/lsa/sqlite-nvram';

type RecoveryParams = {
  smallTracks: number;
  largeTracks: number;
  trackBytes: number;
  disks: number;
  fillWriteBytes: number;
  /** Written after the last flush and lost in the crash (the open segment has a tail). */
  unflushedBytes: number;
};

const RSS_BYTES_PER_TRACK_MAX = 64;
const RSS_FIXED_BYTES = 150 * MIB;
const FILL_POOL_BYTES = 64 * MIB;
const UNFLUSHED_WRITE_BYTES = 64 * 1024;
const CRASH_COPY_SUFFIX = '.crash-copy';

function rssLimitBytes(p: RecoveryParams): number {
  return RSS_BYTES_PER_TRACK_MAX * p.largeTracks + RSS_FIXED_BYTES;
}

/** Fills a volume of `tracks`, flushes, writes more without a flush, and stops as a crash
 * would (no close); keeps a copy of nvram.sqlite so every run starts from the same crash. */
async function crashedArray(ctx: ScenarioContext, dir: string, tracks: number, p: RecoveryParams): Promise<number> {
  const volumeBytes = tracks * p.trackBytes;
  const geometry = { ...benchGeometry(volumeBytes, volumeBytes + p.unflushedBytes * 2, p.disks), trackBytes: p.trackBytes };
  const pool = randomBytes(Math.min(FILL_POOL_BYTES, volumeBytes), ctx.seed);
  const { engine, volume } = await createBenchVolume(dir, geometry, volumeBytes);
  const fillMs = await timed(async () => {
    for (let off = 0; off < volumeBytes; off += p.fillWriteBytes) {
      const n = Math.min(p.fillWriteBytes, volumeBytes - off);
      const at = off % pool.length;
      await volume.write(off, pool.subarray(at, at + n));
      ctx.progress(off + n, volumeBytes, `filling ${tracks} tracks`);
    }
    await volume.flush();
  });
  const slots = volumeBytes / UNFLUSHED_WRITE_BYTES;
  for (let i = 0; i < p.unflushedBytes / UNFLUSHED_WRITE_BYTES; i++) {
    const off = ((i * 7919) % slots) * UNFLUSHED_WRITE_BYTES;
    await volume.write(off, pool.subarray(i * 4096, i * 4096 + UNFLUSHED_WRITE_BYTES));
  }
  await engine.abandon(); // the crash: what the destager wrote stays, NVRAM is as of the flush
  const nvram = path.join(dir, NVRAM_FILE);
  fs.copyFileSync(nvram, nvram + CRASH_COPY_SUFFIX);
  return fillMs;
}

/** Puts the crashed NVRAM back (a rebuild replaced it) and removes what the rebuild kept. */
function restoreCrash(dir: string): void {
  const nvram = path.join(dir, NVRAM_FILE);
  for (const f of fs.readdirSync(dir)) {
    if (f.startsWith(`${NVRAM_FILE}.damaged-`) || f === `${NVRAM_FILE}-wal` || f === `${NVRAM_FILE}-shm`) fs.rmSync(path.join(dir, f), { force: true });
  }
  fs.copyFileSync(nvram + CRASH_COPY_SUFFIX, nvram);
}

function num(o: Record<string, unknown>, key: string): number {
  const v = o[key];
  if (typeof v !== 'number') throw new Error(`recover-array child reported no number for ${key}`);
  return v;
}

async function measure(ctx: ScenarioContext, dir: string, tracks: number): Promise<Record<string, number>> {
  restoreCrash(dir);
  ctx.progress(0, 2, `opening ${tracks} tracks after the crash`);
  const open = await runNodeChild(childScript('recover-array'), ['--dir', dir, '--what', 'open']);
  ctx.progress(1, 2, `rebuilding the directory of ${tracks} tracks`);
  const rebuild = await runNodeChild(childScript('recover-array'), ['--dir', dir, '--what', 'rebuild']);
  if (num(rebuild, 'tracks') !== tracks) throw new Error(`the rebuild found ${num(rebuild, 'tracks')} of ${tracks} tracks`);
  return {
    openMs: num(open, 'openMs'), sqliteReadMs: num(open, 'sqliteReadMs'),
    rebuildMs: num(rebuild, 'rebuildMs'), diskReadMs: num(rebuild, 'diskReadMs'), rssBytes: num(rebuild, 'rssPeakBytes'),
  };
}

export const recovery = defineScenario<RecoveryParams>({
  name: 'recovery',
  title: 'open after a crash, and directory rebuild from the records',
  measures: 'system',
  baseline: 'in the same child, just before: reading nvram.sqlite sequentially (for the open) and every disk file sequentially (for the rebuild), 1 MiB reads, page cache warm',
  target: `peak RSS of the rebuild child <= ${RSS_BYTES_PER_TRACK_MAX} bytes per track + 150 MiB (worst run); times are informational, with the growth from the small to the large volume`,
  metrics: [
    { key: 'openSmallMs', unit: 'ms', description: 'openArray after the crash, small volume' },
    { key: 'openLargeMs', unit: 'ms', description: 'openArray after the crash, large volume' },
    { key: 'sqliteReadLargeMs', unit: 'ms', description: 'baseline: sequential read of nvram.sqlite, large volume' },
    { key: 'rebuildSmallMs', unit: 'ms', description: 'rebuildDirectory, small volume' },
    { key: 'rebuildLargeMs', unit: 'ms', description: 'rebuildDirectory, large volume' },
    { key: 'diskReadLargeMs', unit: 'ms', description: 'baseline: sequential read of every disk file, large volume' },
    { key: 'openGrowth', unit: '', description: 'openLargeMs / openSmallMs of the same run' },
    { key: 'rebuildGrowth', unit: '', description: 'rebuildLargeMs / rebuildSmallMs of the same run' },
    { key: 'rebuildRssBytes', unit: 'bytes', description: 'peak resident set of the rebuild child, large volume (node included)' },
  ],
  sizes: {
    tiny: { smallTracks: 512, largeTracks: 5120, trackBytes: 4096, disks: 5, fillWriteBytes: 4 * MIB, unflushedBytes: MIB },
    quick: { smallTracks: 25_600, largeTracks: 256_000, trackBytes: 4096, disks: 5, fillWriteBytes: 8 * MIB, unflushedBytes: 4 * MIB },
    full: { smallTracks: 102_400, largeTracks: 1_024_000, trackBytes: 4096, disks: 5, fillWriteBytes: 8 * MIB, unflushedBytes: 4 * MIB },
  },

  async prepare(ctx, p): Promise<Trial> {
    const small = path.join(ctx.workDir, 'small');
    const large = path.join(ctx.workDir, 'large');
    const setup = {
      fillSmallMs: Math.round(await crashedArray(ctx, small, p.smallTracks, p)),
      fillLargeMs: Math.round(await crashedArray(ctx, large, p.largeTracks, p)),
      trackRatio: p.largeTracks / p.smallTracks,
    };
    return {
      setup,
      async run() {
        const s = await measure(ctx, small, p.smallTracks);
        const l = await measure(ctx, large, p.largeTracks);
        ctx.note(`open ${s.openMs.toFixed(0)} -> ${l.openMs.toFixed(0)} ms (x${(l.openMs / s.openMs).toFixed(1)}), rebuild ${s.rebuildMs.toFixed(0)} -> ${l.rebuildMs.toFixed(0)} ms (x${(l.rebuildMs / s.rebuildMs).toFixed(1)}) for x${setup.trackRatio} tracks`);
        return {
          metrics: {
            openSmallMs: s.openMs, openLargeMs: l.openMs, sqliteReadLargeMs: l.sqliteReadMs,
            rebuildSmallMs: s.rebuildMs, rebuildLargeMs: l.rebuildMs, diskReadLargeMs: l.diskReadMs,
            openGrowth: l.openMs / s.openMs, rebuildGrowth: l.rebuildMs / s.rebuildMs, rebuildRssBytes: l.rssBytes,
          },
        };
      },
      async dispose() {},
    };
  },

  result: (s, p) => ({
    smallTracks: p.smallTracks,
    largeTracks: p.largeTracks,
    trackRatio: p.largeTracks / p.smallTracks,
    openSmallMs: s.metrics.openSmallMs.median,
    openLargeMs: s.metrics.openLargeMs.median,
    openGrowth: s.metrics.openGrowth.median,
    rebuildSmallMs: s.metrics.rebuildSmallMs.median,
    rebuildLargeMs: s.metrics.rebuildLargeMs.median,
    rebuildGrowth: s.metrics.rebuildGrowth.median,
    diskReadLargeMs: s.metrics.diskReadLargeMs.median,
    rebuildRssBytes: s.metrics.rebuildRssBytes.max,
  }),

  judge: (s, p, runs) => verdictOf([check('rebuildRssBytes', s.metrics.rebuildRssBytes.max, '<=', rssLimitBytes(p), `worst of ${runs} runs`)]),

  plot: (s, p) => [
    {
      kind: 'bars',
      title: `open after a crash (${p.smallTracks} / ${p.largeTracks} tracks)`,
      unit: 'ms',
      bars: [
        { label: 'open, small', role: 'ours', ...s.metrics.openSmallMs },
        { label: 'open, large', role: 'ours', ...s.metrics.openLargeMs },
        { label: 'read nvram.sqlite, large', role: 'baseline', ...s.metrics.sqliteReadLargeMs },
      ],
      lines: [],
    },
    {
      kind: 'bars',
      title: 'directory rebuild from the records',
      unit: 'ms',
      bars: [
        { label: 'rebuild, small', role: 'ours', ...s.metrics.rebuildSmallMs },
        { label: 'rebuild, large', role: 'ours', ...s.metrics.rebuildLargeMs },
        { label: 'read disk files, large', role: 'baseline', ...s.metrics.diskReadLargeMs },
      ],
      lines: [],
    },
  ],
});
