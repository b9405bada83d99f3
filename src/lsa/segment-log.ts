// The log itself: records are appended to the open segment of a stream (placement.ts), in
// memory; a full segment is sealed (closed, its remaining columns and parity handed to the
// writer and the destager) and a free one opened in its place. Nothing is ever written in
// place. Appending is synchronous: the directory and the segment table change in the same
// block of JavaScript as the record, and only the destager (destager.ts) awaits the disks.
//
// Segments in memory: the open segment of each stream, and sealed segments until the destager
// has seen their writes complete; reads of those come from memory (read-path.ts).
//
// Record layout and header: record-format.ts. Segment lifecycle: segment-table.ts.

import { crc32 } from 'node:zlib';
import { OutOfSpaceError, assert } from '../errors';
import type { DiskArray } from '../array/disk-array';
import type { Layout } from '../array/geometry';
import type { Clock } from '../io/clock';
import type { Destager } from './destager';
import type { EngineHooks } from './engine-hooks';
import { MemSegment } from './mem-segment';
import { PARITY_PAGE_BYTES, type NvramStore } from './nvram';
import { STREAMS, STREAM_HOST } from './placement';
import { RECORD_HEADER_BYTES, encodeHeader, recordBytes } from './record-format';
import { SegmentBufferPool } from './segment-buffers';
import type { SegmentTable } from './segment-table';
import type { SegmentWriter } from './segment-writer';

/** Where an appended record went. */
export interface AppendedRecord {
  segment: number;
  slot: number;
  bytes: number;
  crc: number;
}

export interface SegmentLogParts {
  layout: Layout;
  array: DiskArray;
  nvram: NvramStore;
  clock: Clock;
  segments: SegmentTable;
  writer: SegmentWriter;
  destager: Destager;
  hooks: EngineHooks;
  stats: { segmentsCollected: number };
  /** Memory of in-memory segments, reused: at most every open and every queued segment. */
  buffers: SegmentBufferPool;
}

export class SegmentLog {
  /** Segments whose bytes are (also) in memory: the open ones and sealed ones not yet written. */
  private readonly mem = new Map<number, MemSegment>();
  /** The open segment of each stream. */
  readonly open = new Map<number, MemSegment>();
  private readonly layout: Layout;
  private readonly segments: SegmentTable;
  private readonly writer: SegmentWriter;
  private readonly destager: Destager;

  constructor(private readonly p: SegmentLogParts) {
    this.layout = p.layout;
    this.segments = p.segments;
    this.writer = p.writer;
    this.destager = p.destager;
  }

  /** Appends one record to a stream's open segment. Host writes go through writeTracks; the
   * collector and repair call this directly. */
  appendRecord(stream: number, flags: number, volumeId: number, track: number, trackCount: number, payload: Buffer | null, seq: number, crcKnown = -1): AppendedRecord {
    const payloadBytes = payload ? payload.length : 0;
    const bytes = recordBytes(payloadBytes);
    let mem = this.open.get(stream);
    let slot = mem ? mem.place(bytes) : -1;
    if (!mem || slot < 0) {
      if (mem) this.seal(mem);
      mem = this.openSegment(stream);
      slot = mem.place(bytes);
      assert(slot >= 0, 'a record fits an empty segment');
    } else if (slot > 0 && slot % this.layout.columnBytes === 0) {
      // the record starts the next column: the last one is complete (zeros after its last
      // record), so it goes to its disk now rather than at the seal
      mem.buffer.fill(0, mem.fill, slot);
      this.writer.issue(mem, slot);
    }
    const crc = payload ? (crcKnown >= 0 ? crcKnown : crc32(payload)) : 0;
    encodeHeader({ flags, volumeId, payloadBytes, track, seq, trackCount, payloadCrc: crc }, mem.buffer, slot);
    if (payload) payload.copy(mem.buffer, slot + RECORD_HEADER_BYTES);
    const end = slot + bytes;
    mem.buffer.fill(0, slot + RECORD_HEADER_BYTES + payloadBytes, end);
    mem.fill = end;
    const row = this.segments.row(mem.segment);
    row.fillBytes = end;
    row.seqLast = Math.max(row.seqLast, seq);
    this.segments.touch(mem.segment);
    this.destager.changedSinceCommit = true;
    return { segment: mem.segment, slot, bytes, crc };
  }

  private openSegment(stream: number): MemSegment {
    const segment = this.segments.firstFree();
    if (segment < 0) throw new OutOfSpaceError('no free segment left');
    this.segments.transition(segment, 'open');
    const row = this.segments.row(segment);
    row.liveBytes = 0;
    row.trimRefs = 0;
    row.fillBytes = 0;
    row.seqLast = 0;
    row.closedAtMs = 0;
    row.stream = stream;
    const mem = new MemSegment(segment, this.layout, this.p.buffers.take());
    this.mem.set(segment, mem);
    this.open.set(stream, mem);
    this.p.hooks.roomMaker?.notice();
    return mem;
  }

  private seal(mem: MemSegment): void {
    mem.sealed = true;
    this.segments.transition(mem.segment, 'closed');
    this.segments.row(mem.segment).closedAtMs = this.p.clock.nowMs();
    this.writer.issueSealed(mem);
    this.destager.enqueue(mem);
    const stream = this.segments.row(mem.segment).stream;
    if (this.open.get(stream) === mem) this.open.delete(stream);
    this.destager.kick();
  }

  /** Brings the open segment's committed bytes back into memory after a restart. */
  async resumeOpenSegment(segment: number, fillBytes: number): Promise<void> {
    const { array, layout } = this.p;
    const mem = new MemSegment(segment, layout, this.p.buffers.take());
    let parity: Buffer | null = null;
    if (array.degraded) {
      // its parity is not on disk yet: NVRAM holds it (written with each commit)
      parity = Buffer.alloc(layout.columnBytes);
      this.p.nvram.forEachParityPage(segment, (pageNo, bytes) => bytes.copy(parity!, pageNo * PARITY_PAGE_BYTES));
    }
    for (const p of mem.pieces(0, fillBytes)) {
      const source = parity ? { parity: parity.subarray(p.offset, p.offset + p.end - p.start), fillBytes } : undefined;
      await array.readColumn(segment, p.column, p.offset, mem.buffer.subarray(p.start, p.end), source);
    }
    mem.fill = fillBytes;
    mem.issued = fillBytes;
    mem.written = fillBytes;
    mem.committed = fillBytes;
    this.destager.noteNvramParity([segment]);
    this.mem.set(segment, mem);
    const stream = this.segments.row(segment).stream;
    if (this.open.has(stream) || stream < 0 || stream >= STREAMS) this.seal(mem); // a second open segment of one stream: close it
    else this.open.set(stream, mem);
  }

  /** A collected segment returns to the free pool (after the commit that moved its data). */
  releaseSegment(segment: number): void {
    const row = this.segments.row(segment);
    assert(row.liveBytes === 0 && row.trimRefs === 0, `segment ${segment} released with live data`);
    this.segments.transition(segment, 'free');
    row.fillBytes = 0;
    row.seqLast = 0;
    row.closedAtMs = 0;
    this.p.stats.segmentsCollected++;
    this.destager.changedSinceCommit = true;
  }

  /** A sealed segment is on disk (the destager saw its writes complete): its memory goes back
   * to the pool and reads of it go to the disks. */
  retire(mem: MemSegment): void {
    this.mem.delete(mem.segment);
    this.p.buffers.give(mem.buffers);
  }

  /** The segments held in memory, by index (open, and sealed until written). */
  get inMemory(): ReadonlyMap<number, MemSegment> {
    return this.mem;
  }

  isInMemory(segment: number): boolean {
    return this.mem.has(segment);
  }

  openSegments(): IterableIterator<MemSegment> {
    return this.open.values();
  }

  get openSegmentIndex(): number {
    const mem = this.open.get(STREAM_HOST) ?? [...this.open.values()][0];
    return mem ? mem.segment : -1;
  }

  openSegmentIndexes(): number[] {
    return [...this.open.values()].map((m) => m.segment);
  }
}
