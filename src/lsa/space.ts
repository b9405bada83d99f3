// Space: how many records fit before the host runs into the collector's reserve, how many the
// collector can surely place, and which stream takes a record when the one placement asked for
// is full. A write that finds no room asks the collector (the room maker) and waits; if the
// collector cannot free enough, the write fails with OutOfSpaceError.
//
// Room is counted in records of a given size: what is left in the open segments of the streams
// concerned plus what the free segments hold. Nothing here changes state; the counts are read
// from the segment table and the open segments at the instant they are asked for.

import { OutOfSpaceError } from '../errors';
import type { Layout } from '../array/geometry';
import type { EngineHooks } from './engine-hooks';
import type { EngineStatus } from './engine-status';
import type { MemSegment } from './mem-segment';
import { HOST_STREAMS } from './placement';
import type { SegmentTable } from './segment-table';

/** Free segments kept back from host writes so the collector can always make progress. */
export const RESERVED_SEGMENTS = 3;

export class Space {
  constructor(
    private readonly layout: Layout,
    private readonly segments: SegmentTable,
    /** The open segment of each stream. */
    private readonly open: ReadonlyMap<number, MemSegment>,
    private readonly hooks: EngineHooks,
    private readonly status: EngineStatus,
  ) {}

  private recordsPerSegment(bytes: number): number {
    return Math.floor(this.layout.columnBytes / bytes) * this.layout.dataColumns;
  }

  /** Records that surely fit before the host runs into the collector's reserve: the room
   * left in both host streams' open segments (at the reserve a record goes to whichever has
   * room, see hostStreamWithRoom) and in the free segments above the reserve. */
  hostRecordsAvailable(bytes: number, reserve: number): number {
    const free = this.segments.countIn('free') - reserve;
    let left = 0;
    for (const stream of HOST_STREAMS) left += this.open.get(stream)?.recordsLeft(bytes) ?? 0;
    return left + Math.max(0, free) * this.recordsPerSegment(bytes);
  }

  /** The placement's stream for a host record, unless that stream's open segment is full and
   * only the collector's reserve is free: then the other host stream takes it. Placement is a
   * preference; waiting for the collector while the other open segment has room would turn
   * every full segment of a small array into a stall (or an out-of-space error). */
  hostStreamWithRoom(preferred: number, bytes: number): number {
    if ((this.open.get(preferred)?.recordsLeft(bytes) ?? 0) > 0) return preferred;
    if (this.segments.countIn('free') > RESERVED_SEGMENTS) return preferred;
    for (const stream of HOST_STREAMS) if ((this.open.get(stream)?.recordsLeft(bytes) ?? 0) > 0) return stream;
    return preferred;
  }

  /** Waits for the collector if the host has no room, then fails if there still is none. */
  async ensureSpace(records: number, bytesEach: number, reserve = RESERVED_SEGMENTS): Promise<void> {
    const enough = (): boolean => records <= this.hostRecordsAvailable(bytesEach, reserve);
    const roomMaker = this.hooks.roomMaker;
    if (!enough() && roomMaker) {
      await roomMaker.makeRoom(enough);
      this.status.check();
    }
    if (!enough()) {
      throw new OutOfSpaceError(
        `the array is full: no free segment for ${records} more record(s); trim unused data or collect garbage (lsa gc)`,
        { records, freeSegments: this.segments.countIn('free') },
      );
    }
  }

  /** Records the collector can surely place before it runs out of free segments: the room in
   * its streams' open segments and in every free segment. A stream opens a new segment only
   * when its own is full, and with none free a record goes to another of the collector's
   * streams that has room (gcStreamWithRoom), so no room is lost between streams. */
  gcRecordsAvailable(bytes: number): number {
    let left = 0;
    for (const s of this.hooks.placement.gcStreams) left += this.open.get(s)?.recordsLeft(bytes) ?? 0;
    return left + this.segments.countIn('free') * this.recordsPerSegment(bytes);
  }

  /** The stream for a record the collector (or repair) moves: the one placement asks for, or
   * when that one is full and no segment is free, another collector stream with room. */
  gcStreamWithRoom(seq: number, nowSeq: number, bytes: number): number {
    const placement = this.hooks.placement;
    const stream = placement.gcStream(seq, nowSeq);
    if ((this.open.get(stream)?.recordsLeft(bytes) ?? 0) === 0 && this.segments.countIn('free') === 0) {
      return placement.gcStreams.find((s) => (this.open.get(s)?.recordsLeft(bytes) ?? 0) > 0) ?? stream;
    }
    return stream;
  }

  /** Records of `bytes` that fit in the free segments and every open segment: all the room
   * there is, whoever gets it. */
  roomRecords(bytes: number): number {
    let left = 0;
    for (const mem of this.open.values()) left += mem.recordsLeft(bytes);
    return left + this.segments.countIn('free') * this.recordsPerSegment(bytes);
  }
}
