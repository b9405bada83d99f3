// Summaries of repeated runs: median, min and max of each metric over the runs, and for latency
// series the percentiles of all samples pooled over the runs.

import type { MetricSpec, Sample, Summary } from './scenario';

export interface MetricStats {
  unit: string;
  median: number;
  min: number;
  max: number;
  /** One value per run, in run order. */
  values: number[];
}

/** Quantiles kept for plotting a distribution. */
export const DISTRIBUTION_POINTS = 101;

export interface DistributionStats {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  min: number;
  max: number;
  /** The q-quantile for q = 0, 0.01, ..., 1: enough to draw the distribution. */
  quantiles: number[];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The q-quantile (0 <= q <= 1) of sorted values, nearest-rank. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(q * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

export function metricStats(values: number[], unit: string): MetricStats {
  return { unit, median: median(values), min: Math.min(...values), max: Math.max(...values), values };
}

export function distributionStats(samples: readonly number[]): DistributionStats {
  const s = Float64Array.from(samples).sort();
  const sorted = Array.from(s);
  const quantiles: number[] = [];
  for (let i = 0; i < DISTRIBUTION_POINTS; i++) quantiles.push(quantileSorted(sorted, i / (DISTRIBUTION_POINTS - 1)));
  return {
    count: sorted.length,
    p50: quantileSorted(sorted, 0.5),
    p90: quantileSorted(sorted, 0.9),
    p99: quantileSorted(sorted, 0.99),
    p999: quantileSorted(sorted, 0.999),
    min: sorted[0] ?? NaN,
    max: sorted[sorted.length - 1] ?? NaN,
    quantiles,
  };
}

export function summarize(specs: readonly MetricSpec[], samples: readonly Sample[]): Summary {
  const metrics: Summary['metrics'] = {};
  for (const spec of specs) {
    const values = samples.map((s, i) => {
      const v = s.metrics[spec.key];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`run ${i} did not report metric ${spec.key} (got ${String(v)})`);
      return v;
    });
    metrics[spec.key] = metricStats(values, spec.unit);
  }
  const pooled = new Map<string, number[]>();
  for (const s of samples) {
    for (const [name, values] of Object.entries(s.series ?? {})) {
      const all = pooled.get(name) ?? [];
      for (const v of values) all.push(v);
      pooled.set(name, all);
    }
  }
  const distributions: Summary['distributions'] = {};
  for (const [name, values] of pooled) distributions[name] = distributionStats(values);
  return { metrics, distributions };
}
