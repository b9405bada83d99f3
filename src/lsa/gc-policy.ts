// Victim selection and data placement policies of the free-space collector.
//
//   greedy         fewest live bytes first.
//   cost-benefit   Sprite LFS: highest (1 - u) * age / (1 + u), where age is that of the
//                  youngest data in the segment; collector output in its own open segment,
//                  oldest records first.
//   age-threshold  Menon and Stockmeyer: only segments whose youngest record is older than a
//                  threshold are candidates, then greedy among them (all segments when none
//                  is old enough). The threshold follows the space the host writes into: half
//                  the records that the array's garbage and free space hold.
//   sepbit         separates by expected lifetime, in the spirit of SepBIT (FAST'22): a host
//                  write whose previous version of the track lived shorter than twice the
//                  running mean lifetime goes to the hot open segment, others (and first
//                  writes) to the cold one. Collector output still younger than the mean
//                  lifetime joins the hot segment, older output has its own. Victims as
//                  age-threshold.
//
// Why sepbit's victims are not greedy: with hot and cold data in separate segments, greedy
// collects every segment at the same live fraction, which is the uniform workload's write
// amplification again; waiting for young (hot) segments lets them empty, and cold segments are
// collected fuller, which is cheaper overall. `npm run bench -- gc` measures all four.
//
// Ages and lifetimes are measured in write sequence numbers (a logical clock), so runs are
// deterministic and independent of the machine's speed.

import { InvalidArgumentError } from '../errors';
import type { CollectorTarget } from './engine-ports';
import { STREAM_GC, STREAM_HOST, STREAM_HOST_COLD, defaultPlacement, type Placement } from './placement';
import { recordBytes } from './record-format';

export const GC_POLICIES = ['greedy', 'cost-benefit', 'age-threshold', 'sepbit'] as const;
export type GcPolicyName = (typeof GC_POLICIES)[number];
/** The default: whichever `npm run bench -- gc` shows best on skewed workloads. */
export const DEFAULT_GC_POLICY: GcPolicyName = 'sepbit';

/** age-threshold: segments younger than this share of the host writes that fill the array's
 * garbage and free space are left to decay. 0.25 and 1 both did worse than 0.5 on the gc
 * benchmark's hot/cold and zipf workloads; uniform does not care. */
const AGE_THRESHOLD_SHARE_OF_SLACK = 0.5;
/** sepbit: previous lifetime below this multiple of the running mean means hot. With 1, the
 * slow tail of hot tracks (lifetimes are roughly exponential) went to the cold segment and
 * spoiled it: hot/cold at 80% full gave 1.88 instead of 1.74 on a 64 MiB array. */
const HOT_LIFETIME_FACTOR = 2;
/** sepbit: lifetimes observed before the mean is trusted. */
const LIFETIME_SAMPLES_MIN = 16;
/** sepbit: the running mean forgets with this horizon (in overwrites), so it follows a
 * workload that changes. */
const LIFETIME_HORIZON = 4096;

/** What a policy ranks by: the segment table, the geometry and the write sequence. */
export type PolicyInput = Pick<CollectorTarget, 'layout' | 'segments' | 'nextSeq'>;

export interface GcPolicy {
  readonly name: GcPolicyName;
  /** Move live records oldest first (groups cold data together). */
  readonly byAge: boolean;
  readonly placement: Placement;
  /** Candidate victims, best first. */
  rank(engine: PolicyInput, candidates: number[]): number[];
}

export function parseGcPolicy(name: string): GcPolicyName {
  if (!(GC_POLICIES as readonly string[]).includes(name)) {
    throw new InvalidArgumentError(`unknown collector policy "${name}"; choose one of ${GC_POLICIES.join(', ')}`, { policy: name });
  }
  return name as GcPolicyName;
}

function byLive(engine: PolicyInput, a: number, b: number): number {
  const ra = engine.segments.row(a);
  const rb = engine.segments.row(b);
  return ra.liveBytes - rb.liveBytes || ra.trimRefs - rb.trimRefs || ra.seqLast - rb.seqLast;
}

function rankGreedy(engine: PolicyInput, candidates: number[]): number[] {
  return [...candidates].sort((a, b) => byLive(engine, a, b));
}

/** Host writes (in sequence numbers) that fill the space not taken by live records: what the
 * host writes between two collections of the same segment, give or take. */
function slackWrites(engine: PolicyInput): number {
  const l = engine.layout;
  const rec = recordBytes(l.trackBytes);
  const recordsPerSegment = Math.floor(l.columnBytes / rec) * l.dataColumns;
  let liveBytes = 0;
  for (const row of engine.segments.rows) liveBytes += row.liveBytes;
  return Math.max(recordsPerSegment, l.dataSegments * recordsPerSegment - liveBytes / rec);
}

function rankAgeThreshold(engine: PolicyInput, candidates: number[]): number[] {
  const threshold = AGE_THRESHOLD_SHARE_OF_SLACK * slackWrites(engine);
  const now = engine.nextSeq;
  const old = candidates.filter((s) => now - engine.segments.row(s).seqLast > threshold);
  return rankGreedy(engine, old.length > 0 ? old : candidates);
}

const greedy: GcPolicy = {
  name: 'greedy',
  byAge: false,
  placement: defaultPlacement,
  rank: rankGreedy,
};

const costBenefit: GcPolicy = {
  name: 'cost-benefit',
  byAge: true,
  placement: { hostStream: () => STREAM_HOST, gcStream: () => STREAM_GC, gcStreams: [STREAM_GC] },
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
  rank: rankAgeThreshold,
};

/** Running mean of observed lifetimes (exponentially weighted), the hot/cold boundary. */
class LifetimePlacement implements Placement {
  private meanLifetime = 0;
  private samples = 0;
  readonly gcStreams = [STREAM_HOST, STREAM_GC];

  hostStream(_volumeId: number, _track: number, previousSeq: number, nowSeq: number): number {
    if (previousSeq < 0) return STREAM_HOST_COLD;
    const lifetime = nowSeq - previousSeq;
    const hot = this.samples > LIFETIME_SAMPLES_MIN && lifetime < HOT_LIFETIME_FACTOR * this.meanLifetime;
    this.samples++;
    const alpha = Math.max(1 / this.samples, 1 / LIFETIME_HORIZON);
    this.meanLifetime += alpha * (lifetime - this.meanLifetime);
    return hot ? STREAM_HOST : STREAM_HOST_COLD;
  }

  gcStream(seq: number, nowSeq: number): number {
    // a record still young when its segment is collected is mostly a hot track not yet
    // overwritten; among the old survivors it would die soon and leave holes in cold segments
    const young = this.samples > LIFETIME_SAMPLES_MIN && nowSeq - seq < this.meanLifetime;
    return young ? STREAM_HOST : STREAM_GC;
  }
}

function sepbit(): GcPolicy {
  return {
    name: 'sepbit',
    byAge: true,
    placement: new LifetimePlacement(),
    rank: rankAgeThreshold,
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
