// The array as data: what `lsa inspect --json` prints, and what the text view is drawn from.

import type { LsaEngine } from '../../lsa/engine';
import { isTrimLike } from '../../lsa/record-format';

export interface ArrayDescription {
  dir: string;
  arrayId: string;
  geometry: { disks: number; dataDisks: number; columnBytes: number; diskBytes: number; trackBytes: number; segments: number; dataSegments: number };
  nvram: string;
  degraded: boolean;
  disks: { index: number; health: string }[];
  openSegment: number;
  segmentCounts: { free: number; open: number; closed: number; collecting: number };
  segments: { index: number; state: string; parityDisk: number; liveBytes: number; trimRefs: number; fillBytes: number; utilization: number; closedAtMs: number }[];
  volumes: { id: number; name: string; capacityBytes: number; tracks: number; allocatedTracks: number; compress: string }[];
  stats: {
    hostBytesWritten: number; hostBytesTrimmed: number; gcBytesMoved: number; segmentsCollected: number;
    writeAmplification: number; commits: number; nextSeq: number; recordsRepaired: number;
  };
  utilizationHistogram: { from: number; to: number; segments: number }[];
}

export function describeArray(engine: LsaEngine): ArrayDescription {
  const l = engine.layout;
  const segments = engine.segments.rows.slice(1).map((r) => ({
    index: r.index,
    state: r.state,
    parityDisk: l.parityDisk(r.index),
    liveBytes: r.liveBytes,
    trimRefs: r.trimRefs,
    fillBytes: r.fillBytes,
    utilization: r.liveBytes / l.segmentDataBytes,
    closedAtMs: r.closedAtMs,
  }));
  const histogram = Array.from({ length: 10 }, (_, i) => ({ from: i / 10, to: (i + 1) / 10, segments: 0 }));
  for (const s of segments) {
    if (s.state !== 'closed') continue;
    histogram[Math.min(9, Math.floor(s.utilization * 10))].segments++;
  }
  const st = engine.stats;
  const wa = st.hostBytesWritten > 0 ? (st.hostBytesWritten + st.gcBytesMoved) / st.hostBytesWritten : 1;
  return {
    dir: engine.dir,
    arrayId: engine.array.arrayId,
    geometry: {
      disks: l.disks, dataDisks: l.dataColumns, columnBytes: l.columnBytes, diskBytes: l.diskBytes, trackBytes: l.trackBytes,
      segments: l.segments, dataSegments: l.dataSegments,
    },
    nvram: engine.nvram.location,
    degraded: engine.array.degraded,
    disks: engine.array.health.map((health, index) => ({ index, health })),
    openSegment: engine.openSegmentIndex,
    segmentCounts: {
      free: engine.segments.countIn('free'), open: engine.segments.countIn('open'),
      closed: engine.segments.countIn('closed'), collecting: engine.segments.countIn('collecting'),
    },
    segments,
    volumes: [...engine.volumesById.values()].map((v) => ({
      id: v.row.id, name: v.row.name, capacityBytes: v.row.capacityBytes, tracks: v.tracks,
      allocatedTracks: v.directory.countAllocated((f) => !isTrimLike(f)), compress: v.row.compress,
    })),
    stats: {
      hostBytesWritten: st.hostBytesWritten, hostBytesTrimmed: st.hostBytesTrimmed, gcBytesMoved: st.gcBytesMoved,
      segmentsCollected: st.segmentsCollected, writeAmplification: Number(wa.toFixed(4)), commits: st.commits, nextSeq: engine.nextSeq,
      recordsRepaired: st.recordsRepaired,
    },
    utilizationHistogram: histogram,
  };
}
