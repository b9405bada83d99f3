// compress: what per-volume track compression (none, deflate, lz4) costs in write throughput
// and saves in stored bytes, on three kinds of data: incompressible (seeded random), half-zero
// (each 4 KiB track: 2 KiB random, 2 KiB zeros) and text-like (words). Each cell writes the
// same bytes in 1 MiB Volume.write calls to a fresh array (real files, real SQLite) and
// flushes; the baseline is mode `none` on the same data in the same run.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Prng } from '../../src/util/prng';
import { benchGeometry } from '../harness/array-size';
import { createBenchVolume } from '../harness/bench-volume';
import { randomBytes } from '../harness/random-data';
import { defineScenario, verdictOf, type ResultRow, type ScenarioContext, type Summary, type Trial } from '../harness/scenario';
import { MIB, mibPerSecond, timed } from '../harness/timing';
import type { BarPanel } from '../plot/panel';

type CompressParams = {
  totalBytes: number;
  writeBytes: number;
  disks: number;
};

const MODES = ['none', 'deflate', 'lz4'] as const;
type Mode = (typeof MODES)[number];
const KINDS = ['random', 'halfZero', 'text'] as const;
type Kind = (typeof KINDS)[number];
const TRACK_BYTES = 4096;
const WORDS = 'the of and to in is was for on that with as by at from this be it are an or storage segment parity volume track record directory column disk write read flush snapshot'.split(' ');

function makeData(kind: Kind, bytes: number, seed: number): Buffer {
  if (kind === 'random') return randomBytes(bytes, seed);
  if (kind === 'halfZero') {
    const buf = randomBytes(bytes, seed);
    for (let at = 0; at < bytes; at += TRACK_BYTES) buf.fill(0, at + TRACK_BYTES / 2, at + TRACK_BYTES);
    return buf;
  }
  const rng = new Prng(seed);
  const buf = Buffer.allocUnsafeSlow(bytes);
  let at = 0;
  while (at < bytes) {
    const word = rng.pick(WORDS);
    at += buf.write(rng.chance(0.08) ? `${word}.\n` : `${word} `, at, 'latin1');
  }
  return buf;
}

const key = (what: 'mibps' | 'stored' | 'vsNone', kind: Kind, mode: Mode): string => `${what}:${kind}:${mode}`;

interface Cell {
  mibps: number;
  /** Stored record bytes (headers included) / host bytes. */
  stored: number;
}

async function runCell(ctx: ScenarioContext, dir: string, p: CompressParams, data: Buffer, mode: Mode): Promise<Cell> {
  const { engine, volume } = await createBenchVolume(dir, benchGeometry(p.totalBytes, p.totalBytes, p.disks), p.totalBytes, mode);
  try {
    const ms = await timed(async () => {
      for (let off = 0; off < p.totalBytes; off += p.writeBytes) {
        await volume.write(off, data.subarray(off, off + p.writeBytes));
        ctx.progress(off + p.writeBytes, p.totalBytes, mode);
      }
      await volume.flush();
    });
    const stored = engine.segments.rows.reduce((sum, r) => sum + r.liveBytes, 0);
    return { mibps: mibPerSecond(p.totalBytes, ms), stored: stored / p.totalBytes };
  } finally {
    await engine.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const median = (s: Summary, what: 'mibps' | 'stored' | 'vsNone', kind: Kind, mode: Mode): number => s.metrics[key(what, kind, mode)].median;

export const compress = defineScenario<CompressParams>({
  name: 'compress',
  title: 'track compression (none, deflate, lz4): write throughput and stored bytes',
  measures: 'system',
  baseline: 'mode none on the same data in the same run (fresh array per cell; the order of the modes rotates between runs)',
  target: 'none (informational): compression stays off by default',
  metrics: KINDS.flatMap((kind) => MODES.flatMap((mode) => [
    { key: key('mibps', kind, mode), unit: 'MiB/s', description: `${kind} data, --compress ${mode}: host bytes / time from the first write to the end of the flush` },
    { key: key('stored', kind, mode), unit: '', description: `${kind} data, --compress ${mode}: stored record bytes (headers included) / host bytes` },
    { key: key('vsNone', kind, mode), unit: '', description: `${kind} data: MiB/s with ${mode} / MiB/s with none, same run` },
  ])),
  sizes: {
    tiny: { totalBytes: 2 * MIB, writeBytes: MIB, disks: 5 },
    quick: { totalBytes: 64 * MIB, writeBytes: MIB, disks: 5 },
    full: { totalBytes: 256 * MIB, writeBytes: MIB, disks: 5 },
  },

  async prepare(ctx, p): Promise<Trial> {
    const data = new Map<Kind, Buffer>();
    for (const kind of KINDS) {
      ctx.progress(data.size, KINDS.length, `generating ${kind} data`);
      data.set(kind, makeData(kind, p.totalBytes, ctx.seed));
    }
    return {
      async run(index) {
        const metrics: Record<string, number> = {};
        for (const kind of KINDS) {
          const cells = new Map<Mode, Cell>();
          for (let i = 0; i < MODES.length; i++) {
            const mode = MODES[(i + index) % MODES.length];
            cells.set(mode, await runCell(ctx, path.join(ctx.workDir, `array-${index}-${kind}-${mode}`), p, data.get(kind)!, mode));
          }
          for (const mode of MODES) {
            const c = cells.get(mode)!;
            metrics[key('mibps', kind, mode)] = c.mibps;
            metrics[key('stored', kind, mode)] = c.stored;
            metrics[key('vsNone', kind, mode)] = c.mibps / cells.get('none')!.mibps;
          }
        }
        return { metrics };
      },
      async dispose() {},
    };
  },

  result: (s) => ({
    randomDeflateVsNone: median(s, 'vsNone', 'random', 'deflate'),
    randomLz4VsNone: median(s, 'vsNone', 'random', 'lz4'),
    halfZeroDeflateStored: median(s, 'stored', 'halfZero', 'deflate'),
    halfZeroLz4Stored: median(s, 'stored', 'halfZero', 'lz4'),
    textDeflateStored: median(s, 'stored', 'text', 'deflate'),
    textLz4Stored: median(s, 'stored', 'text', 'lz4'),
    textDeflateMiBps: median(s, 'mibps', 'text', 'deflate'),
    textLz4MiBps: median(s, 'mibps', 'text', 'lz4'),
    textNoneMiBps: median(s, 'mibps', 'text', 'none'),
  }),

  rows: (s): ResultRow[] => KINDS.flatMap((kind) => MODES.map((mode) => ({
    data: kind,
    mode,
    MiBps: median(s, 'mibps', kind, mode),
    storedRatio: median(s, 'stored', kind, mode),
    vsNone: median(s, 'vsNone', kind, mode),
  }))),

  judge: () => verdictOf([]),

  plot: (s) => {
    const bars = (what: 'mibps' | 'stored', title: string, unit: string): BarPanel => ({
      kind: 'bars',
      title,
      unit,
      bars: KINDS.flatMap((kind) => MODES.map((mode) => ({
        label: `${kind} ${mode}`,
        role: mode === 'none' ? 'baseline' as const : 'ours' as const,
        ...s.metrics[key(what, kind, mode)],
      }))),
    });
    return [bars('mibps', 'write throughput', 'MiB/s'), bars('stored', 'stored / host bytes', 'ratio')];
  },
});
