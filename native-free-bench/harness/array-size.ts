// Geometry for a benchmark array: default disks and columns, with disks just big enough that a
// volume of `capacityBytes` fits and `hostBytes` of whole-track writes never need the
// collector. Disk files are sparse, so size costs nothing until written.

import { DEFAULT_GEOMETRY, type Geometry } from '../../src/array/geometry';
import { RESERVED_SEGMENTS } from '../../src/lsa/engine';
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
