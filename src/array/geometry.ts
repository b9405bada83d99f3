// Fixed geometry of an array of N+1 disk files. Segment s is the column at byte
// `s * columnBytes` on every disk. Segment 0 is reserved for the superblocks (see
// superblock.ts); segments 1.. hold data. One column of each segment holds the XOR parity of
// the other N, and the parity disk rotates with s (left-symmetric, as in md's RAID-5 default):
//
//   segment:   1    2    3    4    5 ...        (5 disks)
//   disk 0:    D0   D1   D2   D3   P
//   disk 1:    D1   D2   D3   P    D0
//   disk 2:    D2   D3   P    D0   D1
//   disk 3:    D3   P    D0   D1   D2
//   disk 4:    P    D0   D1   D2   D3

import { InvalidArgumentError } from '../errors';
import { formatSize } from '../util/size';

export interface Geometry {
  disks: number;
  columnBytes: number;
  diskBytes: number;
  trackBytes: number;
}

export const DISKS_MIN = 3;
export const DISKS_MAX = 32;
export const TRACK_BYTES_MIN = 4096;
export const TRACK_BYTES_MAX = 256 * 1024;
export const COLUMN_BYTES_MAX = 256 * 1024 * 1024;
export const SEGMENTS_MIN = 4;

export const DEFAULT_GEOMETRY: Geometry = {
  disks: 5,
  columnBytes: 1024 * 1024,
  diskBytes: 256 * 1024 * 1024,
  trackBytes: 4096,
};

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/** Checks a geometry and names the limit it breaks. */
export function validateGeometry(g: Geometry): void {
  const bad = (msg: string): never => {
    throw new InvalidArgumentError(msg, { geometry: g });
  };
  if (!Number.isInteger(g.disks) || g.disks < DISKS_MIN || g.disks > DISKS_MAX) {
    bad(`--disks must be between ${DISKS_MIN} and ${DISKS_MAX} (N data disks + 1 parity); got ${g.disks}`);
  }
  if (!isPowerOfTwo(g.trackBytes) || g.trackBytes < TRACK_BYTES_MIN || g.trackBytes > TRACK_BYTES_MAX) {
    bad(`--track-size must be a power of two from 4KiB to 256KiB; got ${formatSize(g.trackBytes)}`);
  }
  if (g.columnBytes % 4096 !== 0 || g.columnBytes > COLUMN_BYTES_MAX) {
    bad(`--column-size must be a multiple of 4KiB and at most 256MiB; got ${formatSize(g.columnBytes)}`);
  }
  if (g.columnBytes < 4 * g.trackBytes) {
    bad(`--column-size ${formatSize(g.columnBytes)} is too small for --track-size ${formatSize(g.trackBytes)}: a column must be at least 4 tracks; use --column-size ${formatSize(4 * g.trackBytes)} or more`);
  }
  if (g.diskBytes % g.columnBytes !== 0) {
    bad(`--disk-size ${formatSize(g.diskBytes)} must be a multiple of --column-size ${formatSize(g.columnBytes)}`);
  }
  if (g.diskBytes / g.columnBytes < SEGMENTS_MIN) {
    bad(`--disk-size ${formatSize(g.diskBytes)} holds fewer than ${SEGMENTS_MIN} columns of ${formatSize(g.columnBytes)} (one is reserved for the superblock); make the disks larger or the columns smaller`);
  }
  if (g.diskBytes > 2 ** 48) bad(`--disk-size ${formatSize(g.diskBytes)} is above the 256TiB limit`);
  if ((g.disks - 1) * g.columnBytes > 2 ** 32 - 1) {
    bad(`a segment's data (${g.disks - 1} x ${formatSize(g.columnBytes)}) must stay under 4GiB; use smaller columns or fewer disks`);
  }
}

export class Layout {
  readonly disks: number;
  readonly dataColumns: number;
  readonly columnBytes: number;
  readonly diskBytes: number;
  readonly trackBytes: number;
  /** Segments including the reserved segment 0. */
  readonly segments: number;
  readonly segmentDataBytes: number;

  constructor(readonly geometry: Geometry) {
    validateGeometry(geometry);
    this.disks = geometry.disks;
    this.dataColumns = geometry.disks - 1;
    this.columnBytes = geometry.columnBytes;
    this.diskBytes = geometry.diskBytes;
    this.trackBytes = geometry.trackBytes;
    this.segments = geometry.diskBytes / geometry.columnBytes;
    this.segmentDataBytes = this.dataColumns * this.columnBytes;
  }

  /** Segments that can hold data (all but segment 0). */
  get dataSegments(): number {
    return this.segments - 1;
  }

  parityDisk(segment: number): number {
    return this.disks - 1 - (segment % this.disks);
  }

  dataDisk(segment: number, column: number): number {
    return (this.parityDisk(segment) + 1 + column) % this.disks;
  }

  /** Which data column of `segment` lives on `disk`, or -1 for the parity column. */
  columnOnDisk(segment: number, disk: number): number {
    const p = this.parityDisk(segment);
    if (disk === p) return -1;
    return (disk - p - 1 + this.disks) % this.disks;
  }

  segmentOffset(segment: number): number {
    return segment * this.columnBytes;
  }
}
