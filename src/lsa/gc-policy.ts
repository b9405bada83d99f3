// Victim selection and data placement policies of the free-space collector.
//
//   greedy         fewest live bytes first.
//   cost-benefit   Sprite LFS: highest (1 - u) * age / (1 + u); live data moved oldest first.
//   age-threshold  Menon and Stockmeyer: only segments older than a threshold are candidates,
//                  then greedy among them.
//   sepbit         separates by expected lifetime, in the spirit of SepBIT (FAST'22): a host
//                  write whose previous version of the track lived shorter than the running
//                  mean lifetime goes to the hot open segment, others (and first writes) to the
//                  cold one; collector output has its own open segment. Victims: greedy.
//
// Ages and lifetimes are measured in write sequence numbers (a logical clock), so runs are
// deterministic and independent of the machine's speed.

import { InvalidArgumentError } from '../errors';
import { STREAM_GC, STREAM_HOST, STREAM_HOST_COLD, defaultPlacement, type LsaEngine, type Placement } from './engine';

export const GC_POLICIES = ['greedy', 'cost-benefit', 'age-threshold', 'sepbit'] as const;
export type GcPolicyName = (typeof GC_POLICIES)[number];
/** The default: whichever `npm run bench -- gc` shows best on skewed workloads. */
export const DEFAULT_GC_POLICY: GcPolicyName = 'sepbit';

export interface GcPolicy {
  readonly name: GcPolicyName;
  /** Move live records oldest first (groups cold data together). */
  readonly byAge: boolean;
  readonly placement: Placement;
  /** Candidate victims, best first. */
  rank(engine: LsaEngine, candidates: number[]): number[];
}

export function parseGcPolicy(name: string): GcPolicyName {
  if (!(GC_POLICIES as readonly string[]).includes(name)) {
    throw new InvalidArgumentError(`unknown collector policy "${name}"; choose one of ${GC_POLICIES.join(', ')}`, { policy: name });
  }
  return name as GcPolicyName;
}

function byLive(engine: LsaEngine, a: number, b: number): number {
  const ra = engine.segments.row(a);
  const rb = engine.segments.row(b);
  return ra.liveBytes - rb.liveBytes || ra.trimRefs - rb.trimRefs || ra.seqLast - rb.seqLast;
}

const greedy: GcPolicy = {
  name: 'greedy',
  byAge: false,
  placement: defaultPlacement,
  rank: (engine, candidates) => [...candidates].sort((a, b) => byLive(engine, a, b)),
};

const costBenefit: GcPolicy = {
  name: 'cost-benefit',
  byAge: true,
  placement: { hostStream: () => STREAM_HOST, gcStream: () => STREAM_GC },
  rank(engine, candidates) {
    const total = engine.layout.segmentDataBytes;
    const now = engine.nextSeq;
    const score = (s: number): number => {
      const row = engine.segments.row(s);
      const u = row.liveBytes / total;
      const age = Math.max(1, now - row.seqLast);
      return ((1 - u) * age) / (1 + u);
    };
    return candidates.map((s) => ({ s, v: score(s) })).sort((a, b) => b.v - a.v).map((x) => x.s);
  },
};

const ageThreshold: GcPolicy = {
  name: 'age-threshold',
  byAge: false,
  placement: defaultPlacement,
  rank(engine, candidates) {
    // protect the youngest tenth of the array: segments written within the last
    // (data segments / 10) segments' worth of records are not candidates
    const l = engine.layout;
    const recordsPerSegment = Math.floor(l.columnBytes / (l.trackBytes + 48)) * l.dataColumns;
    const threshold = recordsPerSegment * Math.max(1, Math.floor(l.dataSegments / 10));
    const now = engine.nextSeq;
    const old = candidates.filter((s) => now - engine.segments.row(s).seqLast > threshold);
    const pool = old.length > 0 ? old : candidates;
    return [...pool].sort((a, b) => byLive(engine, a, b));
  },
};

/** Running mean of observed lifetimes (exponentially weighted), the hot/cold boundary. */
class LifetimePlacement implements Placement {
  private meanLifetime = 0;
  private samples = 0;

  hostStream(_volumeId: number, _track: number, previousSeq: number, nowSeq: number): number {
    if (previousSeq < 0) return STREAM_HOST_COLD;
    const lifetime = nowSeq - previousSeq;
    const hot = this.samples > 16 && lifetime < this.meanLifetime;
    this.samples++;
    const alpha = Math.max(1 / this.samples, 1 / 4096);
    this.meanLifetime += alpha * (lifetime - this.meanLifetime);
    return hot ? STREAM_HOST : STREAM_HOST_COLD;
  }

  gcStream(): number {
    return STREAM_GC;
  }
}

function sepbit(): GcPolicy {
  return {
    name: 'sepbit',
    byAge: true,
    placement: new LifetimePlacement(),
    rank: (engine, candidates) => [...candidates].sort((a, b) => byLive(engine, a, b)),
  };
}

export function makeGcPolicy(name: GcPolicyName): GcPolicy {
  switch (name) {
    case 'greedy': return greedy;
    case 'cost-benefit': return costBenefit;
    case 'age-threshold': return ageThreshold;
    case 'sepbit': return sepbit();
  }
}
