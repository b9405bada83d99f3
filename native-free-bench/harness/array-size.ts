// Geometry for a benchmark array: default disks and columns, with disks just big enough that a
// volume of `capacityBytes` fits and `hostBytes` of whole-track writes never need the
// collector. Disk files are sparse, so size costs nothing until written.

import { DEFAULT_GEOMETRY, type Geometry } from '../../src/array/geometry';
import { RESERVED_SEGMENTS } from '../../src/lsa/space';
import { STREAMS } from '../../src/lsa/placement';
import { recordBytes } from '../../src/lsa/record-format';

/** Segments kept spare beyond the need: superblock segment 0, the open segment, slack. */
const SPARE_SEGMENTS = 8;
const DISK_ROUND_BYTES = 64 * 1024 * 1024;

export function benchGeometry(capacityBytes: number, hostBytes: number, disks = DEFAULT_GEOMETRY.disks): Geometry {
  const g = { ...DEFAULT_GEOMETRY, disks };
  const perColumn = Math.floor(g.columnBytes / recordBytes(g.trackBytes));
  const perSegmentBytes = perColumn * g.trackBytes * (disks - 1);
  const segments = Math.ceil(Math.max(capacityBytes, hostBytes) / perSegmentBytes) + RESERVED_SEGMENTS + SPARE_SEGMENTS;
  const diskBytes = Math.ceil((segments * g.columnBytes) / DISK_ROUND_BYTES) * DISK_ROUND_BYTES;
  return { ...g, diskBytes };
}

/** Geometry whose usable space (lsa/volumes.ts usableBytes: data segments less the collector's
 * reserve and the open segments) holds `volumeBytes` at `utilization` (0.8: the volume is 80% of
 * what the array can hold), so that overwriting the volume needs the collector. Whole
 * segments: the utilization reached is reported by the scenario from the engine itself. */
export function geometryAtUtilization(volumeBytes: number, utilization: number, disks = DEFAULT_GEOMETRY.disks): Geometry {
  const g = { ...DEFAULT_GEOMETRY, disks };
  const perSegmentBytes = Math.floor(g.columnBytes / recordBytes(g.trackBytes)) * g.trackBytes * (disks - 1);
  const usableSegments = Math.ceil(volumeBytes / utilization / perSegmentBytes);
  // segment 0 (superblock), the reserve and an open segment per stream are not usable space
  const segments = usableSegments + RESERVED_SEGMENTS + STREAMS + 1;
  return { ...g, diskBytes: segments * g.columnBytes };
}
