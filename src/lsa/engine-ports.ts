// The engine as each of its users sees it. A module that uses the engine names the face it
// needs, so what it can reach is what it says:
//
//   HostIo           the volume layer (src/volume), the NBD server, snapshot exports, the
//                    control API: volumes, whole-track reads and writes, flush
//   UpdateSource     the remote copy's primary: host I/O, the write sequence, update events and
//                    commit notifications
//   PendingHost      the secondary's pending updates (pending.ts): append, point tracks, commit
//   CollectorTarget  the collector (collector.ts, relocate.ts, gc-policy.ts): space, append of
//                    moved records, the segment table, reading segments and records
//   CheckTarget      the checker (check.ts): the state read-only, the disks, and flush and the
//                    collector for --repair
//
// Inspection reads an ArrayView (array-view.ts), which the engine or a read-only peek gives.
// LsaEngine implements every face; only the places that open, close or wire an array (the CLI
// commands, open-array.ts, tests and benchmarks) hold the whole engine.

import type { DiskArray } from '../array/disk-array';
import type { Layout } from '../array/geometry';
import type { Entry, VolumeDirectory } from './directory';
import type { RecordPins, RoomMaker, UpdateListener } from './engine-hooks';
import type { HostWriter } from './host-writes';
import type { PendingDirectory } from './pending-directory';
import type { Placement } from './placement';
import type { RecordHeader } from './record-format';
import type { AppendedRecord, SegmentLog } from './segment-log';
import type { SegmentTable } from './segment-table';
import type { VolumeState } from './volume-state';

/** The engine's counters (committed with every commit, shown by lsa inspect). */
export interface EngineStats {
  hostBytesWritten: number;
  hostBytesTrimmed: number;
  gcBytesMoved: number;
  segmentsCollected: number;
  commits: number;
  recordsRepaired: number;
}

/** Finding volumes. */
export interface VolumeLookup {
  readonly dir: string;
  readonly layout: Layout;
  readonly volumesById: ReadonlyMap<number, VolumeState>;
  readonly volumesByName: ReadonlyMap<string, VolumeState>;
  /** The volume with this id, or InvalidArgumentError. */
  volume(id: number): VolumeState;
}

/** Host I/O on whole tracks. */
export interface HostIo extends VolumeLookup {
  /** One whole track into `out` at `at`; `from` reads through another directory (a snapshot's). */
  readTrack(volumeId: number, track: number, out: Buffer, at: number, from?: VolumeDirectory): Promise<void>;
  /** `count` whole tracks from `first` into `out` at `at`. */
  readTracks(volumeId: number, first: number, count: number, out: Buffer, at: number, from?: VolumeDirectory): Promise<void>;
  /** Whole tracks; `data.length` is a multiple of the track size. */
  writeTracks(volumeId: number, firstTrack: number, data: Buffer): Promise<void>;
  /** TRIM (zero false) or ZERO (allocated zeros) of whole tracks. */
  trimTracks(volumeId: number, firstTrack: number, count: number, zero: boolean): Promise<void>;
  /** Makes every write that completed before this call durable. */
  flush(): Promise<void>;
  /** The I/O error that stopped the engine, or null. */
  readonly failed: unknown;
}

/** The primary side of a remote copy. */
export interface UpdateSource extends HostIo {
  /** The next write sequence: every update so far has a lower one. */
  readonly nextSeq: number;
  readonly array: { readonly arrayId: string };
  setUpdateListener(listener: UpdateListener | null): void;
}

/** The secondary's pending updates (pending.ts). */
export interface PendingHost {
  readonly layout: Layout;
  readonly segments: SegmentTable;
  readonly pending: PendingDirectory;
  readonly volumesById: ReadonlyMap<number, VolumeState>;
  readonly roomMaker: RoomMaker | null;
  readonly segmentLog: Pick<SegmentLog, 'appendRecord'>;
  readonly hostWriter: Pick<HostWriter, 'pointAtTrim' | 'unlink'>;
  markChanged(): void;
}

/** The collector: space, append of moved records, the segment table. */
export interface CollectorTarget {
  readonly layout: Layout;
  readonly segments: SegmentTable;
  readonly volumesById: ReadonlyMap<number, VolumeState>;
  readonly pins: RecordPins | null;
  readonly pending: PendingDirectory;
  readonly stats: EngineStats;
  readonly nextSeq: number;
  readonly failed: unknown;
  isInMemory(segment: number): boolean;
  /** Records of `bytes` the collector can surely place. */
  gcRecordsAvailable(bytes: number): number;
  /** Records of `bytes` that fit anywhere. */
  roomRecords(bytes: number): number;
  appendMoved(h: RecordHeader, payload: Buffer | null): AppendedRecord;
  releaseSegment(segment: number): void;
  readSegmentData(segment: number, from: number, to: number): Promise<Buffer>;
  readRecordBytes(e: Entry): Promise<Buffer>;
  rebuildRecord(e: Entry): Promise<Buffer | null>;
  flush(): Promise<void>;
  usePlacement(p: Placement): void;
}

/** The checker. */
export interface CheckTarget {
  readonly dir: string;
  readonly layout: Layout;
  readonly array: DiskArray;
  readonly segments: SegmentTable;
  readonly volumesById: ReadonlyMap<number, VolumeState>;
  readonly pins: RecordPins | null;
  readonly pending: PendingDirectory;
  /** The collector, which --repair asks to move damaged segments' data (collectorOf). */
  readonly roomMaker: RoomMaker | null;
  isInMemory(segment: number): boolean;
  readRecordBytes(e: Entry): Promise<Buffer>;
  flush(): Promise<void>;
}
