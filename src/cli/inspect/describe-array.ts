// The array as data: what `lsa inspect --json` prints, and what the text view and the SVG
// picture are drawn from. Built from an ArrayView, so it is the same whether this process
// opened the array or looks at one another process runs.

import { diskPath } from '../../array/disk-array';
import { engineView, openSegmentsOf, type ArrayView, type ViewAccess } from '../../lsa/array-view';
import type { LsaEngine } from '../../lsa/engine';
import { isTrimLike } from '../../lsa/record-format';
import { listSnapshots, type SnapshotFile } from './snapshots';

export const HISTOGRAM_BUCKETS = 10;

export interface SegmentSummary {
  index: number;
  state: string;
  stream: number;
  parityDisk: number;
  liveBytes: number;
  trimRefs: number;
  fillBytes: number;
  /** liveBytes / the segment's data bytes (N columns). */
  utilization: number;
  closedAtMs: number;
}

export interface ArrayDescription {
  dir: string;
  arrayId: string;
  access: ViewAccess;
  geometry: { disks: number; dataDisks: number; columnBytes: number; diskBytes: number; trackBytes: number; segments: number; dataSegments: number; segmentDataBytes: number };
  nvram: string;
  degraded: boolean;
  disks: { index: number; health: string; path: string }[];
  /** The host stream's open segment (or the first open one), -1 if none. */
  openSegment: number;
  openSegments: number[];
  segmentCounts: { free: number; open: number; closed: number; collecting: number };
  segments: SegmentSummary[];
  volumes: { id: number; name: string; capacityBytes: number; tracks: number; allocatedTracks: number; compress: string }[];
  stats: {
    hostBytesWritten: number; hostBytesTrimmed: number; gcBytesMoved: number; segmentsCollected: number;
    writeAmplification: number; commits: number; nextSeq: number; recordsRepaired: number;
  };
  /** Lifetime counters of the free-space collector (kept in NVRAM across restarts). */
  collector: { segmentsCollected: number; bytesMoved: number };
  /** Updates stored but not yet applied (remote copy secondary). */
  pendingWrites: number;
  /** Directory pages whose newest entries are partly in the NVRAM log (folded one or more
   * per commit; see docs/FORMAT.md). */
  directoryLogPages: number;
  snapshots: SnapshotFile[];
  /** Closed segments by utilization, in HISTOGRAM_BUCKETS equal buckets. */
  utilizationHistogram: { from: number; to: number; segments: number }[];
}

/** For callers that hold an engine (lsa init). */
export function describeEngine(engine: LsaEngine): ArrayDescription {
  return describeArray(engineView(engine));
}

export function describeArray(view: ArrayView): ArrayDescription {
  const l = view.layout;
  const rows = view.segmentRows.slice(1);
  const segments: SegmentSummary[] = rows.map((r) => ({
    index: r.index,
    state: r.state,
    stream: r.stream,
    parityDisk: l.parityDisk(r.index),
    liveBytes: r.liveBytes,
    trimRefs: r.trimRefs,
    fillBytes: r.fillBytes,
    utilization: r.liveBytes / l.segmentDataBytes,
    closedAtMs: r.closedAtMs,
  }));
  const histogram = Array.from({ length: HISTOGRAM_BUCKETS }, (_, i) => ({ from: i / HISTOGRAM_BUCKETS, to: (i + 1) / HISTOGRAM_BUCKETS, segments: 0 }));
  for (const s of segments) {
    if (s.state !== 'closed') continue;
    histogram[Math.min(HISTOGRAM_BUCKETS - 1, Math.floor(s.utilization * HISTOGRAM_BUCKETS))].segments++;
  }
  const count = (state: string): number => rows.filter((r) => r.state === state).length;
  const open = openSegmentsOf(view);
  const hostOpen = rows.find((r) => r.state === 'open' && r.stream === 0);
  const st = view.stats;
  const wa = st.hostBytesWritten > 0 ? (st.hostBytesWritten + st.gcBytesMoved) / st.hostBytesWritten : 1;
  return {
    dir: view.dir,
    arrayId: view.arrayId,
    access: view.access,
    geometry: {
      disks: l.disks, dataDisks: l.dataColumns, columnBytes: l.columnBytes, diskBytes: l.diskBytes, trackBytes: l.trackBytes,
      segments: l.segments, dataSegments: l.dataSegments, segmentDataBytes: l.segmentDataBytes,
    },
    nvram: view.nvramLocation,
    degraded: view.health.some((h) => h !== 'ok'),
    disks: view.health.map((health, index) => ({ index, health, path: diskPath(view.dir, index) })),
    openSegment: hostOpen?.index ?? open[0] ?? -1,
    openSegments: open,
    segmentCounts: { free: count('free'), open: count('open'), closed: count('closed'), collecting: count('collecting') },
    segments,
    volumes: [...view.volumesById.values()].map((v) => ({
      id: v.row.id, name: v.row.name, capacityBytes: v.row.capacityBytes, tracks: v.tracks,
      allocatedTracks: v.directory.countAllocated((f) => !isTrimLike(f)), compress: v.row.compress,
    })),
    stats: {
      hostBytesWritten: st.hostBytesWritten, hostBytesTrimmed: st.hostBytesTrimmed, gcBytesMoved: st.gcBytesMoved,
      segmentsCollected: st.segmentsCollected, writeAmplification: Number(wa.toFixed(4)), commits: st.commits, nextSeq: view.nextSeq,
      recordsRepaired: st.recordsRepaired,
    },
    collector: { segmentsCollected: st.segmentsCollected, bytesMoved: st.gcBytesMoved },
    pendingWrites: view.pending.size,
    directoryLogPages: view.directoryLogPages,
    snapshots: listSnapshots(view.dir),
    utilizationHistogram: histogram,
  };
}
