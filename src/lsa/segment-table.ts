// The segment table: state and accounting of every segment, in memory, persisted as rows of
// the `segments` table in NVRAM at each commit.
//
// Segment lifecycle (the only transitions; `assertTransition` guards each):
//
//   free --open--> open --seal--> closed --pick--> collecting --release--> free
//                                  ^                  |
//                                  +----abandon-------+
//
// Segment 0 is `reserved` forever (superblocks). A segment is freed only after the commit that
// moved its last live record away is durable.

import { assert } from '../errors';

export type SegmentState = 'reserved' | 'free' | 'open' | 'closed' | 'collecting';

const TRANSITIONS: Record<SegmentState, SegmentState[]> = {
  reserved: [],
  free: ['open'],
  open: ['closed'],
  closed: ['collecting'],
  collecting: ['free', 'closed'],
};

export function assertTransition(from: SegmentState, to: SegmentState, segment: number): void {
  assert(TRANSITIONS[from].includes(to), `segment ${segment}: ${from} -> ${to} is not a legal transition`);
}

export interface SegmentRow {
  index: number;
  state: SegmentState;
  /** Bytes of data records that the directory points at. */
  liveBytes: number;
  /** Directory entries (trimmed or zeroed tracks) that point at trim records in this segment. */
  trimRefs: number;
  /** Append point: byte offset in the segment's data where the next record goes. */
  fillBytes: number;
  /** Highest write sequence stored in the segment. */
  seqLast: number;
  /** When the segment was closed (ms since the epoch); its age for the collector. */
  closedAtMs: number;
  /** Which open stream the segment belongs to (0 host, others for separated data). */
  stream: number;
}

export class SegmentTable {
  readonly rows: SegmentRow[];
  private dirty = new Set<number>();
  /** Segments in each state, kept with every change of state: writers ask for the free count
   * on every write (a scan of the table cost O(segments) per write). */
  private counts: Record<SegmentState, number> = { reserved: 0, free: 0, open: 0, closed: 0, collecting: 0 };

  constructor(count: number) {
    this.rows = [];
    for (let i = 0; i < count; i++) {
      this.rows.push({ index: i, state: i === 0 ? 'reserved' : 'free', liveBytes: 0, trimRefs: 0, fillBytes: 0, seqLast: 0, closedAtMs: 0, stream: 0 });
      this.counts[this.rows[i].state]++;
    }
  }

  get count(): number {
    return this.rows.length;
  }

  row(i: number): SegmentRow {
    return this.rows[i];
  }

  load(row: SegmentRow): void {
    if (row.index <= 0 || row.index >= this.rows.length) return;
    this.counts[this.rows[row.index].state]--;
    this.rows[row.index] = { ...row };
    this.counts[row.state]++;
  }

  transition(i: number, to: SegmentState): void {
    const row = this.rows[i];
    assertTransition(row.state, to, i);
    this.counts[row.state]--;
    row.state = to;
    this.counts[to]++;
    this.dirty.add(i);
  }

  /** Recovery only, outside the lifecycle above: a segment that recovery freed but a snapshot
   * file still points into (its collection was interrupted before the file was rewritten; it
   * was never reused) goes back to closed. */
  reclaimFreed(i: number): void {
    const row = this.rows[i];
    assert(row.state === 'free', `segment ${i} reclaimed from free`);
    this.counts.free--;
    row.state = 'closed';
    this.counts.closed++;
    this.dirty.add(i);
  }

  touch(i: number): void {
    this.dirty.add(i);
  }

  addLive(i: number, bytes: number): void {
    const row = this.rows[i];
    row.liveBytes += bytes;
    // the message is built only on failure: this runs for every record written
    if (row.liveBytes < 0) assert(false, `segment ${i} live bytes went negative`);
    this.dirty.add(i);
  }

  addTrimRefs(i: number, n: number): void {
    const row = this.rows[i];
    row.trimRefs += n;
    if (row.trimRefs < 0) assert(false, `segment ${i} trim refs went negative`);
    this.dirty.add(i);
  }

  takeDirtyRows(): SegmentRow[] {
    const out = [...this.dirty].map((i) => ({ ...this.rows[i] }));
    this.dirty.clear();
    return out;
  }

  hasDirty(): boolean {
    return this.dirty.size > 0;
  }

  markDirty(indexes: number[]): void {
    for (const i of indexes) this.dirty.add(i);
  }

  countIn(state: SegmentState): number {
    return this.counts[state];
  }

  firstFree(): number {
    for (let i = 1; i < this.rows.length; i++) if (this.rows[i].state === 'free') return i;
    return -1;
  }
}
