// What inspection reads from an array, whoever holds it. Two sources give the same view:
//   - engineView: this process opened the array (it holds `<dir>/lock`); the engine's own
//     state, memory included;
//   - peekArray (peek.ts): another process runs the array; the last commit in NVRAM and the
//     disk files, read without the lock and without writing anything.
// Everything here is read-only: the views describe, they never change the array.

import type { DiskHealth } from '../array/disk-array';
import type { Layout } from '../array/geometry';
import type { LsaEngine } from './engine';
import type { EngineStats } from './engine-ports';
import type { VolumeState } from './volume-state';
import type { PendingDirectory } from './pending-directory';
import type { SegmentRow } from './segment-table';

export interface ViewAccess {
  /** 'exclusive': this process opened the array; 'read-only': another process holds it (or
   * --watch asked for a look without the lock), so the view is as of that process's last
   * commit. */
  mode: 'exclusive' | 'read-only';
  /** The live process holding `<dir>/lock`, if another one does. */
  heldByPid: number | null;
}

export interface ArrayView {
  readonly dir: string;
  readonly arrayId: string;
  readonly layout: Layout;
  readonly health: readonly DiskHealth[];
  readonly nvramLocation: string;
  /** Every segment, index 0 (reserved) included. */
  readonly segmentRows: readonly SegmentRow[];
  readonly volumesById: Map<number, VolumeState>;
  readonly volumesByName: Map<string, VolumeState>;
  readonly stats: Readonly<EngineStats>;
  readonly nextSeq: number;
  /** The write-pending directory (remote copy secondary): records stored, not yet applied. */
  readonly pending: PendingDirectory;
  /** Directory pages whose newest entries are partly in the NVRAM log (not folded yet). */
  readonly directoryLogPages: number;
  readonly access: ViewAccess;
  /** Bytes [from, to) of a segment's data area, as the array would read them (from memory
   * when the segment is there, rebuilt from parity for a failed disk). */
  readSegmentData(segment: number, from: number, to: number): Promise<Buffer>;
  isInMemory(segment: number): boolean;
  /** A snapshot holds this record for that track (always false in a read-only look: pins
   * live in the process that holds the snapshots). */
  isPinned(volumeId: number, track: number, segment: number, slot: number): boolean;
}

export function engineView(engine: LsaEngine): ArrayView {
  return {
    dir: engine.dir,
    arrayId: engine.array.arrayId,
    layout: engine.layout,
    health: engine.array.health,
    nvramLocation: engine.nvram.location,
    segmentRows: engine.segments.rows,
    volumesById: engine.volumesById,
    volumesByName: engine.volumesByName,
    stats: engine.stats,
    nextSeq: engine.nextSeq,
    pending: engine.pending,
    directoryLogPages: engine.journal.pagesInLog,
    access: { mode: 'exclusive', heldByPid: null },
    readSegmentData: (segment, from, to) => engine.readSegmentData(segment, from, to),
    isInMemory: (segment) => engine.isInMemory(segment),
    isPinned: (volumeId, track, segment, slot) => engine.pins?.isPinned(volumeId, track, segment, slot) ?? false,
  };
}

/** Segments in the `open` state (one per open stream). */
export function openSegmentsOf(view: ArrayView): number[] {
  return view.segmentRows.filter((r) => r.state === 'open').map((r) => r.index);
}
