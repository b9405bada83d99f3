// The read path: tracks out of records. A track's directory entry leads to its record, in
// memory (the open segment, a sealed one not yet written) or on its data column; the record is
// checked (header, sequence, CRC), decompressed, and on failure rebuilt from parity and
// rewritten elsewhere. The work itself is in track-reader.ts (one track) and tracks-reader.ts
// (a run of tracks, one disk read per stretch of adjacent records); this class is what they
// read through, and where a track cache goes: in front of readRecordBytes and the stretch
// reads, invalidated wherever the directory changes.

import type { DiskArray } from '../array/disk-array';
import type { Layout } from '../array/geometry';
import type { Entry, VolumeDirectory } from './directory';
import type { EngineHooks } from './engine-hooks';
import type { EngineStatus } from './engine-status';
import type { MemSegment } from './mem-segment';
import type { SegmentTable } from './segment-table';
import { readTrack as readTrackFromRecords, rebuildRecord as rebuildRecordFromParity, type RecordMover, type RecordSource } from './track-reader';
import { readTracks as readTracksFromRecords } from './tracks-reader';
import { volumeById, type VolumeState } from './volume-state';

export interface ReadPathParts {
  layout: Layout;
  array: DiskArray;
  segments: SegmentTable;
  volumesById: ReadonlyMap<number, VolumeState>;
  /** The segments held in memory (segment-log.ts). */
  inMemory: ReadonlyMap<number, MemSegment>;
  status: EngineStatus;
  hooks: EngineHooks;
  stats: { recordsRepaired: number };
  mover: RecordMover;
}

export class ReadPath implements RecordSource {
  readonly layout: Layout;
  readonly array: DiskArray;
  readonly segments: SegmentTable;
  readonly stats: { recordsRepaired: number };
  readonly mover: RecordMover;
  private readonly volumesById: ReadonlyMap<number, VolumeState>;
  private readonly inMemory: ReadonlyMap<number, MemSegment>;
  private readonly status: EngineStatus;
  private readonly hooks: EngineHooks;

  constructor(p: ReadPathParts) {
    this.layout = p.layout;
    this.array = p.array;
    this.segments = p.segments;
    this.stats = p.stats;
    this.mover = p.mover;
    this.volumesById = p.volumesById;
    this.inMemory = p.inMemory;
    this.status = p.status;
    this.hooks = p.hooks;
  }

  get log(): EngineHooks['log'] {
    return this.hooks.log;
  }

  volume(id: number): VolumeState {
    return volumeById(this.volumesById, id);
  }

  /** Reads one whole track into `out` at `at`: zeros for tracks never written or trimmed; a
   * damaged record is rebuilt from parity, or the read fails naming the byte range. `from`
   * reads through another directory (a snapshot's). */
  async readTrack(volumeId: number, track: number, out: Buffer, at: number, from?: VolumeDirectory): Promise<void> {
    this.status.check();
    return readTrackFromRecords(this, volumeId, track, out, at, from);
  }

  /** Reads `count` whole tracks from `first` into `out` at `at`, as readTrack would each, with
   * one disk read per stretch of records that lie one after the other (tracks-reader.ts). */
  async readTracks(volumeId: number, first: number, count: number, out: Buffer, at: number, from?: VolumeDirectory): Promise<void> {
    this.status.check();
    return readTracksFromRecords(this, volumeId, first, count, out, at, from);
  }

  /** The record's bytes rebuilt from the other columns and parity, or null if impossible. */
  rebuildRecord(e: Entry): Promise<Buffer | null> {
    return rebuildRecordFromParity(this, e);
  }

  /** The bytes of the record an entry points at, from memory or from its data column. */
  async readRecordBytes(e: Entry): Promise<Buffer> {
    const mem = this.inMemory.get(e.segment);
    if (mem) return Buffer.from(mem.buffer.subarray(e.slot, e.slot + e.recordBytes));
    const cb = this.layout.columnBytes;
    const column = Math.floor(e.slot / cb);
    const buf = Buffer.allocUnsafe(e.recordBytes);
    await this.array.readColumn(e.segment, column, e.slot - column * cb, buf);
    return buf;
  }

  /** Segment bytes as the engine sees them (memory first), for the collector, the checker and
   * inspection. */
  async readSegmentData(segment: number, from: number, to: number): Promise<Buffer> {
    const mem = this.inMemory.get(segment);
    if (mem) return mem.copyData(from, to);
    const out = Buffer.alloc(to - from);
    const cb = this.layout.columnBytes;
    for (let pos = from; pos < to;) {
      const column = Math.floor(pos / cb);
      const end = Math.min(to, (column + 1) * cb);
      await this.array.readColumn(segment, column, pos - column * cb, out.subarray(pos - from, end - from));
      pos = end;
    }
    return out;
  }

  isInMemory(segment: number): boolean {
    return this.inMemory.has(segment);
  }
}
