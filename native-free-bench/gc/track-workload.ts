// Which track each host write of the gc scenario overwrites. Hot tracks are scattered over the
// volume by a fixed seeded permutation: kept together, the sequential first fill would already
// have put them in their own segments, and the scenario would measure the fill order rather
// than the policy.
//
//   uniform  every track equally likely.
//   hotcold  90% of writes to 10% of the tracks, 10% to the rest (uniform within each).
//   zipf     track of rank k (1-based) with probability proportional to 1 / k^s, s = 1.

import { Prng } from '../../src/util/prng';

export const GC_WORKLOADS = ['uniform', 'hotcold', 'zipf'] as const;
export type GcWorkload = (typeof GC_WORKLOADS)[number];

export const HOT_TRACK_SHARE = 0.1;
export const HOT_WRITE_SHARE = 0.9;
export const ZIPF_EXPONENT = 1.0;

/** A seeded random permutation of 0 .. n-1 (Fisher-Yates). */
function permutation(n: number, rng: Prng): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** Cumulative zipf probabilities of ranks 1 .. n, normalized to end at 1. */
function zipfCdf(n: number, s: number): Float64Array {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) {
    sum += 1 / (k + 1) ** s;
    cdf[k] = sum;
  }
  for (let k = 0; k < n; k++) cdf[k] /= sum;
  return cdf;
}

/** The first index whose cumulative probability exceeds r. */
function searchCdf(cdf: Float64Array, r: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cdf[mid] > r) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** A function drawing the next track to overwrite; `layoutSeed` fixes where hot tracks are,
 * `rng` draws the writes. */
export function trackPicker(workload: GcWorkload, tracks: number, layoutSeed: number, rng: Prng): () => number {
  switch (workload) {
    case 'uniform':
      return () => rng.int(tracks);
    case 'hotcold': {
      const where = permutation(tracks, new Prng(layoutSeed));
      const hot = Math.max(1, Math.floor(tracks * HOT_TRACK_SHARE));
      return () => where[rng.next() < HOT_WRITE_SHARE ? rng.int(hot) : hot + rng.int(tracks - hot)];
    }
    case 'zipf': {
      const where = permutation(tracks, new Prng(layoutSeed));
      const cdf = zipfCdf(tracks, ZIPF_EXPONENT);
      return () => where[searchCdf(cdf, rng.next())];
    }
  }
}
