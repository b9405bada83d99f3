// gc: write amplification of every collector policy on three workloads at four utilizations,
// on the engine's in-memory twins (simulated disks, in-memory NVRAM), so it measures the
// collector and not the disk. Reference: greedy, and for uniform the analytic FIFO-cleaning
// curve (gc/fifo-model.ts). Utilization = volume bytes / usableBytes of the array. The cells
// run on one worker thread per core (gc/cell-workers.ts); each is deterministic for its seed.

import type { Geometry } from '../../src/array/geometry';
import { DEFAULT_GC_POLICY, GC_POLICIES, type GcPolicyName } from '../../src/lsa/gc-policy';
import { modelWriteAmplification } from '../gc/fifo-model';
import { GC_WORKLOADS, type GcWorkload } from '../gc/track-workload';
import { measureCells } from '../gc/cell-workers';
import type { CellSpec } from '../gc/write-amplification';
import { check, defineScenario, verdictOf, type ResultRow, type Summary, type Trial } from '../harness/scenario';
import { MIB } from '../harness/timing';
import type { LinePanel } from '../plot/panel';
import { LINE_COLOR, SERIES_COLORS } from '../plot/panel';

type GcParams = {
  /** Data bytes of the array: data segments x (disks - 1) x columnBytes. */
  dataBytes: number;
  disks: number;
  columnBytes: number;
  trackBytes: number;
  /** Volume-overwrites after the first fill before the counters are read. */
  warmupPasses: number;
  /** Volume-overwrites measured. */
  measurePasses: number;
  utilization: string;
};

const UTILIZATIONS = [0.5, 0.7, 0.8, 0.9] as const;
const SKEWED: readonly GcWorkload[] = ['hotcold', 'zipf'];
/** Targets (issue "2/8 free-space collector"). */
const MODEL_ERROR_MAX = 0.15;
const HOTCOLD_TARGET_UTILIZATION = 0.8;
const HOTCOLD_BEST_VS_GREEDY_MAX = 0.7;
const BEST_VS_GREEDY_MAX = 1.05;
/** Points of the model curve drawn across the measured utilizations. */
const MODEL_CURVE_POINTS = 41;

function key(policy: GcPolicyName, workload: GcWorkload, u: number): string {
  return `wa:${policy}:${workload}:${u}`;
}

function wa(s: Summary, policy: GcPolicyName, workload: GcWorkload, u: number): number {
  return s.metrics[key(policy, workload, u)].median;
}

function vsGreedy(s: Summary, policy: GcPolicyName, workload: GcWorkload, u: number): number {
  return wa(s, policy, workload, u) / wa(s, 'greedy', workload, u);
}

/** The policy with the lowest geometric mean of write amplification over the skewed cells. */
function bestOnSkewed(s: Summary): GcPolicyName {
  const score = (p: GcPolicyName): number => SKEWED.flatMap((w) => UTILIZATIONS.map((u) => Math.log(wa(s, p, w, u)))).reduce((a, b) => a + b, 0);
  return [...GC_POLICIES].sort((a, b) => score(a) - score(b))[0];
}

function bestAt(s: Summary, workload: GcWorkload, u: number): GcPolicyName {
  return [...GC_POLICIES].sort((a, b) => wa(s, a, workload, u) - wa(s, b, workload, u))[0];
}

function worstVsGreedy(s: Summary, policy: GcPolicyName): number {
  return Math.max(...GC_WORKLOADS.flatMap((w) => UTILIZATIONS.map((u) => vsGreedy(s, policy, w, u))));
}

function skewedVsGreedy(s: Summary, policy: GcPolicyName): number {
  const logs = SKEWED.flatMap((w) => UTILIZATIONS.map((u) => Math.log(vsGreedy(s, policy, w, u))));
  return Math.exp(logs.reduce((a, b) => a + b, 0) / logs.length);
}

function modelError(s: Summary, u: number): number {
  return Math.abs(wa(s, 'greedy', 'uniform', u) / modelWriteAmplification(u) - 1);
}

function geometryOf(p: GcParams): Geometry {
  const dataSegments = p.dataBytes / ((p.disks - 1) * p.columnBytes);
  return { disks: p.disks, columnBytes: p.columnBytes, diskBytes: (dataSegments + 1) * p.columnBytes, trackBytes: p.trackBytes };
}

function panel(s: Summary, workload: GcWorkload): LinePanel {
  const lo = UTILIZATIONS[0];
  const hi = UTILIZATIONS[UTILIZATIONS.length - 1];
  const curve = Array.from({ length: MODEL_CURVE_POINTS }, (_, i) => lo + ((hi - lo) * i) / (MODEL_CURVE_POINTS - 1));
  return {
    kind: 'lines',
    title: workload,
    unit: 'write amplification',
    xLabel: 'utilization (volume bytes / usable bytes)',
    series: [
      ...GC_POLICIES.map((policy, i) => ({
        label: policy,
        color: SERIES_COLORS[i % SERIES_COLORS.length],
        points: UTILIZATIONS.map((u) => ({ x: u, y: wa(s, policy, workload, u) })),
      })),
      { label: 'model: uniform, FIFO cleaning', color: LINE_COLOR, reference: true, points: curve.map((u) => ({ x: u, y: modelWriteAmplification(u) })) },
    ],
  };
}

export const gc = defineScenario<GcParams>({
  name: 'gc',
  title: 'collector write amplification by policy, workload and utilization',
  measures: 'algorithm',
  baseline: 'greedy in the same run on the same writes, and for uniform the analytic FIFO-cleaning curve 1/(1-x), x = exp(-(1-x)/u)',
  target: `greedy on uniform within ${MODEL_ERROR_MAX * 100}% of the model at every utilization; the best policy on hotcold at ${HOTCOLD_TARGET_UTILIZATION} <= ${HOTCOLD_BEST_VS_GREEDY_MAX} x greedy; the policy best on hotcold and zipf never more than ${Math.round((BEST_VS_GREEDY_MAX - 1) * 100)}% worse than greedy`,
  metrics: GC_POLICIES.flatMap((policy) => GC_WORKLOADS.flatMap((workload) => UTILIZATIONS.map((u) => ({
    key: key(policy, workload, u),
    unit: '',
    description: `${policy}, ${workload}, utilization ${u}: (host + moved bytes) / host bytes`,
  })))),
  sizes: {
    tiny: { dataBytes: 3 * MIB, disks: 5, columnBytes: 16 * 1024, trackBytes: 4096, warmupPasses: 1, measurePasses: 1, utilization: 'volume / usableBytes' },
    quick: { dataBytes: 128 * MIB, disks: 5, columnBytes: 64 * 1024, trackBytes: 4096, warmupPasses: 2, measurePasses: 1, utilization: 'volume / usableBytes' },
    full: { dataBytes: 256 * MIB, disks: 5, columnBytes: 64 * 1024, trackBytes: 4096, warmupPasses: 3, measurePasses: 2, utilization: 'volume / usableBytes' },
  },
  // deterministic for a seed: no warm-up; each run draws other writes (seed + run)
  runs: { quick: 1, full: 2 },
  warmupRuns: { quick: 0, full: 0 },

  async prepare(ctx, p): Promise<Trial> {
    const geometry = geometryOf(p);
    const cells = GC_POLICIES.length * GC_WORKLOADS.length * UTILIZATIONS.length;
    return {
      async run(index) {
        const specs = GC_POLICIES.flatMap((policy) => GC_WORKLOADS.flatMap((workload) => UTILIZATIONS.map((u): CellSpec => ({
          policy, workload, utilization: u, geometry, warmupPasses: p.warmupPasses, measurePasses: p.measurePasses,
          seed: (ctx.seed + index) >>> 0, layoutSeed: (ctx.seed ^ 0x5eed) >>> 0, dir: ctx.workDir,
        }))));
        let done = 0;
        ctx.progress(0, cells, 'cells');
        const results = await measureCells(specs, (i) => ctx.progress(++done, cells, `${specs[i].policy} ${specs[i].workload} ${specs[i].utilization}`));
        const metrics: Record<string, number> = {};
        specs.forEach((c, i) => (metrics[key(c.policy, c.workload, c.utilization)] = results[i].writeAmplification));
        for (const policy of GC_POLICIES) {
          for (const workload of GC_WORKLOADS) {
            ctx.note(`${policy} ${workload}: ${UTILIZATIONS.map((u) => `${u} -> ${metrics[key(policy, workload, u)].toFixed(2)}`).join(', ')}`);
          }
        }
        return { metrics };
      },
      async dispose() {},
    };
  },

  result(s) {
    const best = bestOnSkewed(s);
    const u = HOTCOLD_TARGET_UTILIZATION;
    return {
      greedyModelErrorMax: Math.max(...UTILIZATIONS.map((x) => modelError(s, x))),
      hotcold80BestVsGreedy: vsGreedy(s, bestAt(s, 'hotcold', u), 'hotcold', u),
      bestWorstVsGreedy: worstVsGreedy(s, best),
      bestSkewedVsGreedy: skewedVsGreedy(s, best),
      greedyUniform90: wa(s, 'greedy', 'uniform', 0.9),
      modelUniform90: modelWriteAmplification(0.9),
      greedyHotcold80: wa(s, 'greedy', 'hotcold', u),
      bestHotcold80: wa(s, bestAt(s, 'hotcold', u), 'hotcold', u),
    };
  },

  rows(s): ResultRow[] {
    return GC_POLICIES.flatMap((policy) => GC_WORKLOADS.flatMap((workload) => UTILIZATIONS.map((u) => ({
      policy,
      workload,
      utilization: u,
      writeAmplification: wa(s, policy, workload, u),
      ...(workload === 'uniform' ? { modelWriteAmplification: modelWriteAmplification(u) } : {}),
      vsGreedy: vsGreedy(s, policy, workload, u),
    }))));
  },

  judge(s, _p, runs) {
    const basis = `median of ${runs} run${runs === 1 ? '' : 's'}`;
    const best = bestOnSkewed(s);
    const hot = bestAt(s, 'hotcold', HOTCOLD_TARGET_UTILIZATION);
    const which = best === DEFAULT_GC_POLICY ? 'the default' : `the default is ${DEFAULT_GC_POLICY}`;
    const worstU = [...UTILIZATIONS].sort((a, b) => modelError(s, b) - modelError(s, a))[0];
    return verdictOf([
      check(`greedy's largest error vs the model, uniform (at u=${worstU})`, modelError(s, worstU), '<=', MODEL_ERROR_MAX, basis),
      check(`${hot} (best there) / greedy, hotcold, u=${HOTCOLD_TARGET_UTILIZATION}`, vsGreedy(s, hot, 'hotcold', HOTCOLD_TARGET_UTILIZATION), '<=', HOTCOLD_BEST_VS_GREEDY_MAX, basis),
      check(`${best} (best on hotcold and zipf; ${which}) / greedy, worst of all cells`, worstVsGreedy(s, best), '<=', BEST_VS_GREEDY_MAX, basis),
    ]);
  },

  plot: (s) => GC_WORKLOADS.map((w) => panel(s, w)),
});
