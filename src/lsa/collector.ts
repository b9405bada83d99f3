// The free-space collector. One batch: pick victims by policy, read each whole, move its live
// records to the collector's open segment (synchronously, in the engine), then one group
// commit, and only after that commit return the victims to the free pool. A crash at any
// moment loses nothing: until the commit the directory points at the victims, which are
// untouched; after it, at the moved copies. Victims left `collecting` by a crash go back to
// `closed` on open and are simply collected again.
//
// It runs in the background when free segments fall below a low-water mark, and on demand
// when a host write finds no room (the write waits rather than fails, unless nothing can be
// freed) and from `lsa gc`.

import type { CollectorTarget } from './engine-ports';
import { RESERVED_SEGMENTS } from './space';
import type { RoomMaker } from './engine-hooks';
import { makeGcPolicy, type GcPolicy, type GcPolicyName } from './gc-policy';
import { recordBytes } from './record-format';
import { relocateFromDirectory, relocateScanned } from './relocate';

/** Victims per batch (one commit per batch). */
export const GC_BATCH_MAX = 4;

export interface CollectorCounters {
  batches: number;
  segmentsCollected: number;
  recordsMoved: number;
  bytesMoved: number;
  corruptRecordsSkipped: number;
}

export class Collector implements RoomMaker {
  policy: GcPolicy;
  readonly counters: CollectorCounters = { batches: 0, segmentsCollected: 0, recordsMoved: 0, bytesMoved: 0, corruptRecordsSkipped: 0 };
  private busy: Promise<number> | null = null;
  private background = false;
  private stopped = false;
  lowWater: number;
  highWater: number;

  constructor(readonly engine: CollectorTarget, policy: GcPolicyName) {
    this.policy = makeGcPolicy(policy);
    // Counts, not shares of the array: every segment held free is space the log cannot fill,
    // and at 90% full each 0.4% of the array held back costs ~5% more write amplification
    // (npm run bench -- gc). Background collection starts with one batch of room left above
    // the reserve and stops one batch later.
    this.lowWater = RESERVED_SEGMENTS + GC_BATCH_MAX;
    this.highWater = this.lowWater + GC_BATCH_MAX;
  }

  setPolicy(name: GcPolicyName): void {
    this.policy = makeGcPolicy(name);
    this.engine.usePlacement(this.policy.placement);
  }

  private candidates(): number[] {
    const e = this.engine;
    // Collecting a segment frees what its live records do not use; a segment whose only
    // slack is the unusable tails of its columns would move as much as it frees, forever.
    const recBytes = recordBytes(e.layout.trackBytes);
    const slackMin = (e.layout.dataColumns + 1) * recBytes;
    const full = e.layout.segmentDataBytes;
    const out: number[] = [];
    for (const row of e.segments.rows) {
      if (row.state !== 'closed' || e.isInMemory(row.index)) continue;
      if (full - row.liveBytes - Math.min(row.trimRefs, 1) * recBytes < slackMin) continue;
      out.push(row.index);
    }
    return out;
  }

  /** One batch; returns how many segments it freed (0: nothing collectible). Batches never
   * overlap: a caller arriving while one runs waits for it and gets its result. */
  collectBatch(urgent = false): Promise<number> {
    if (this.stopped) return Promise.resolve(0);
    if (!this.busy) {
      this.busy = this.runBatch(urgent).finally(() => {
        this.busy = null;
      });
    }
    return this.busy;
  }

  private async runBatch(urgent: boolean): Promise<number> {
    const e = this.engine;
    const candidates = this.candidates();
    // segments with nothing live (a sequential overwrite leaves them) cost no moves and no
    // reads: all of them go in this batch, under its one commit, whatever the policy's order
    const victims = candidates.filter((s) => this.recordsToMove(s) === 0);
    const others = candidates.filter((s) => this.recordsToMove(s) > 0);
    // when a write is waiting for room, the segment that frees most now comes first
    const ranked = urgent ? makeGcPolicy('greedy').rank(e, others) : this.policy.rank(e, others);
    const recBytes = recordBytes(e.layout.trackBytes);
    const batchMax = victims.length + GC_BATCH_MAX;
    let need = 0;
    for (const s of ranked) {
      if (victims.length >= batchMax) break;
      const liveRecords = this.recordsToMove(s);
      if (need + liveRecords > e.gcRecordsAvailable(recBytes)) continue;
      need += liveRecords;
      victims.push(s);
    }
    if (victims.length === 0) return 0;
    return this.evacuate(victims);
  }

  /** Room the moves out of segment `s` take, in whole-track records (a trim marker is small;
   * 16 covers the few a segment's trims need). */
  private recordsToMove(s: number): number {
    const row = this.engine.segments.row(s);
    return Math.ceil(row.liveBytes / recordBytes(this.engine.layout.trackBytes)) + (row.trimRefs > 0 ? 16 : 0);
  }

  /** Moves every live record out of `victims` (closed segments), commits, frees them. A
   * record that fails its CRC is rebuilt from parity first (the engine's read path repairs
   * and rewrites it); one that cannot be rebuilt keeps its segment closed. Returns how many
   * segments were freed. */
  async evacuate(victims: number[]): Promise<number> {
    const e = this.engine;
    for (const s of victims) e.segments.transition(s, 'collecting');
    const freed: number[] = [];
    try {
      for (const s of victims) {
        const dead = e.segments.row(s);
        // nothing live (overwritten or trimmed whole, as sequential overwrites leave them):
        // free without reading it
        if (dead.liveBytes === 0 && dead.trimRefs === 0) continue;
        const data = await e.readSegmentData(s, 0, e.layout.segmentDataBytes);
        // host writes ran during the read and may have taken the free segments counted when
        // the batch was chosen (down to the reserve): move this victim only if its records
        // surely fit now, else leave it for a later batch (relocateScanned checks again
        // before each chunk, as host writes run between them)
        if (this.recordsToMove(s) > e.gcRecordsAvailable(recordBytes(e.layout.trackBytes))) continue;
        let moved = await relocateScanned(e, s, data, this.policy.byAge);
        const row = e.segments.row(s);
        if ((row.liveBytes > 0 || row.trimRefs > 0) && !moved.outOfRoom) {
          // the scan missed live data (a damaged header or payload): go by the directory,
          // rebuilding damaged records from parity
          const again = await relocateFromDirectory(e, s);
          moved = { records: moved.records + again.records, bytes: moved.bytes + again.bytes, corrupt: again.corrupt };
        }
        this.counters.recordsMoved += moved.records;
        this.counters.bytesMoved += moved.bytes;
        this.counters.corruptRecordsSkipped += moved.corrupt;
      }
      await e.flush();
      // snapshots that pointed into the victims must be durable at their new places first
      await e.pins?.persist();
      for (const s of victims) {
        const row = e.segments.row(s);
        if (row.liveBytes === 0 && row.trimRefs === 0) {
          e.releaseSegment(s);
          freed.push(s);
        } else {
          e.segments.transition(s, 'closed'); // something could not be moved (damaged beyond parity)
        }
      }
    } catch (err) {
      for (const s of victims) if (e.segments.row(s).state === 'collecting') e.segments.transition(s, 'closed');
      throw err;
    }
    this.counters.batches++;
    this.counters.segmentsCollected += freed.length;
    return freed.length;
  }

  /** Collects until `enough()` or until nothing more can be freed. */
  async makeRoom(enough: () => boolean): Promise<void> {
    let idle = 0;
    while (!enough() && idle < 2) {
      const before = this.room();
      await this.collectBatch(true);
      // a batch may have been running for someone else: give up after two without gain
      idle = this.room() > before ? 0 : idle + 1;
    }
  }

  /** Collects until `free` segments are free (or nothing more can be freed). */
  async collectUntilFree(free: number): Promise<number> {
    let total = 0;
    let idle = 0;
    while (this.engine.segments.countIn('free') < free && idle < 2) {
      const before = this.room();
      total += await this.collectBatch();
      idle = this.room() > before ? 0 : idle + 1;
    }
    return total;
  }

  /** Progress is room, not free segments: near full, a batch moves 3/4 of a segment for every
   * one it frees, so the free count can stay put while the open segments gain room. */
  private room(): number {
    return this.engine.roomRecords(recordBytes(this.engine.layout.trackBytes));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.busy?.catch(() => undefined); // its error poisoned the engine: close reports it
  }

  /** Called after writes: starts background collection below the low-water mark. */
  notice(): void {
    if (this.background || this.stopped || this.engine.failed) return;
    if (this.engine.segments.countIn('free') >= this.lowWater) return;
    this.background = true;
    setImmediate(() => void this.collectUntilFree(this.highWater)
      .catch(() => undefined) // the engine is poisoned and reports the error to its callers
      .finally(() => {
        this.background = false;
      }));
  }
}

/** The collector attached to an engine, if any. */
export function collectorOf(engine: { readonly roomMaker: RoomMaker | null }): Collector | null {
  return engine.roomMaker instanceof Collector ? engine.roomMaker : null;
}
