// What the segment table's accounting must say, recomputed from the directories: a data
// record counts its bytes once while anyone points at it (the volume directory, a snapshot,
// the write-pending directory); a trim record counts one reference per track that points at
// it. The checker compares; recovery of a secondary with snapshots recomputes; the directory
// rebuild (rebuild-directory.ts) takes its segment table from it.

import type { Layout } from '../array/geometry';
import { ENTRY_WORDS } from './directory';
import type { CollectorTarget, PendingHost } from './engine-ports';
import { isTrimLike } from './record-format';

/** What the accounting is computed from: the volumes' directories, the pin holders' (snapshots)
 * and the write-pending records. */
export type AccountingSource = Pick<CollectorTarget, 'volumesById' | 'pins' | 'pending'> & { readonly layout: Pick<Layout, 'segments' | 'segmentDataBytes'> };

export interface Accounting {
  liveBytes: number[];
  trimRefs: number[];
}

/** `pins`: the pin holders to count (default: the engine's). */
export function expectedAccounting(engine: AccountingSource, pins = engine.pins): Accounting {
  const n = engine.layout.segments;
  const sdb = engine.layout.segmentDataBytes;
  const liveBytes = new Array<number>(n).fill(0);
  const trimRefs = new Array<number>(n).fill(0);
  for (const v of engine.volumesById.values()) {
    const dirs = [v.directory, ...(pins?.directories(v.row.id) ?? [])];
    // a data record counts once however many tracks point at it (only a damaged directory
    // has two); keyed by its place in the array, which is below 2^53
    const seenData = new Set<number>();
    for (let t = 0; t < v.tracks; t++) {
      let first = -1;
      let firstSlot = -1;
      for (let d = 0; d < dirs.length; d++) {
        const w = dirs[d].words;
        const seg = w[t * ENTRY_WORDS];
        if (seg === 0 || seg >= n) continue;
        const slot = w[t * ENTRY_WORDS + 1];
        if (d > 0 && seg === first && slot === firstSlot) continue; // same record as an earlier holder
        if (d > 1 && dirs.slice(1, d).some((x) => x.words[t * ENTRY_WORDS] === seg && x.words[t * ENTRY_WORDS + 1] === slot)) continue;
        if (d === 0) {
          first = seg;
          firstSlot = slot;
        }
        const flags = w[t * ENTRY_WORDS + 4] & 0xffff;
        if (isTrimLike(flags)) trimRefs[seg]++;
        else {
          const key = seg * sdb + slot;
          if (seenData.has(key)) continue;
          seenData.add(key);
          liveBytes[seg] += w[t * ENTRY_WORDS + 2];
        }
      }
    }
  }
  for (const p of engine.pending.rows()) liveBytes[p.segment] += p.recordBytes;
  return { liveBytes, trimRefs };
}

/** Sets the segment table's accounting to what the directories say (`pins`: the pin holders
 * to count, default the engine's). */
export function recomputeAccounting(engine: AccountingSource & Pick<PendingHost, 'segments' | 'markChanged'>, pins = engine.pins): number {
  const a = expectedAccounting(engine, pins);
  let changed = 0;
  for (let s = 1; s < engine.layout.segments; s++) {
    const row = engine.segments.row(s);
    if (row.liveBytes === a.liveBytes[s] && row.trimRefs === a.trimRefs[s]) continue;
    row.liveBytes = a.liveBytes[s];
    row.trimRefs = a.trimRefs[s];
    engine.segments.touch(s);
    changed++;
  }
  if (changed > 0) engine.markChanged();
  return changed;
}
