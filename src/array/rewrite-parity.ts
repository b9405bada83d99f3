// Recomputing a segment's parity column from its data columns on disk and writing it: what
// `lsa check --repair` does for a segment whose records are good but whose parity disagrees,
// what the directory rebuild does for the segment that was open at the crash, and what a disk
// rebuild does for the segments whose parity lived on the replaced disk. It does not sync: the
// caller decides when (check syncs at once; rebuilds sync before their commit).

import type { DiskArray } from './disk-array';
import { xorInto } from './parity';

/** Two column buffers for a run of rewrites (a rebuild reuses them for every segment). */
export interface ParityScratch {
  column: Buffer;
  parity: Buffer;
}

export function parityScratch(columnBytes: number): ParityScratch {
  return { column: Buffer.alloc(columnBytes), parity: Buffer.alloc(columnBytes) };
}

/** Reads every data column of `segment`, XORs them and writes the result as its parity. */
export async function rewriteParity(array: DiskArray, segment: number, scratch: ParityScratch = parityScratch(array.layout.columnBytes)): Promise<void> {
  const { column, parity } = scratch;
  parity.fill(0);
  for (let c = 0; c < array.layout.dataColumns; c++) {
    await array.readColumn(segment, c, 0, column);
    xorInto(parity, column);
  }
  await array.writeParity(segment, 0, parity);
}
