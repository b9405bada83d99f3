// Which bytes of a volume differ between two directory copies (two snapshots, or a snapshot
// and the volume now), from the directories alone: no data is read. Two entries of a track
// hold the same bytes when both hold no data (never written, trimmed, zeroed: all read as
// zeros) or when they name the same record: the same write sequence, flags and payload CRC
// (where it lives does not matter: the collector moves records and updates every copy).
// A track rewritten with identical bytes counts as different: the answer is a superset of the
// bytes that differ, never a subset.

import { assert } from '../errors';
import { ENTRY_WORDS, type VolumeDirectory } from '../lsa/directory';
import { isHoleEntry } from './snapshot-range';

export interface ByteRange {
  offset: number;
  length: number;
}

function sameTrack(a: Uint32Array, b: Uint32Array, t: number): boolean {
  const w = t * ENTRY_WORDS;
  const holeA = isHoleEntry(a[w], a[w + 4] & 0xffff);
  const holeB = isHoleEntry(b[w], b[w + 4] & 0xffff);
  if (holeA || holeB) return holeA && holeB;
  // seq (words 6, 7), flags (4), payload CRC (3)
  return a[w + 6] === b[w + 6] && a[w + 7] === b[w + 7] && (a[w + 4] & 0xffff) === (b[w + 4] & 0xffff) && a[w + 3] === b[w + 3];
}

/** Differing byte ranges, merged into runs, clipped to the capacity. */
export function diffDirectories(a: VolumeDirectory, b: VolumeDirectory, trackBytes: number, capacityBytes: number): ByteRange[] {
  assert(a.tracks === b.tracks, 'diff of directories of one volume');
  const out: ByteRange[] = [];
  let runStart = -1;
  for (let t = 0; t <= a.tracks; t++) {
    const differs = t < a.tracks && !sameTrack(a.words, b.words, t);
    if (differs && runStart < 0) runStart = t;
    if (!differs && runStart >= 0) {
      const offset = runStart * trackBytes;
      out.push({ offset, length: Math.min(capacityBytes, t * trackBytes) - offset });
      runStart = -1;
    }
  }
  return out;
}
