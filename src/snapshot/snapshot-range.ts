// Ranges of a snapshot as the secondary serves them to a restore (RESTORE_READ): the bytes of
// the tracks that hold data, and the holes (tracks never written, trimmed or zeroed) that read
// as zeros and are not sent.

import { InvalidArgumentError } from '../errors';
import { isTrimLike } from '../lsa/record-format';
import type { RestoreChunk, RestoreRead } from '../replication/restore-messages';
import type { SnapshotStore } from './snapshot-store';

/** True when the track holds no data in `dir` (it reads as zeros). */
export function isHoleEntry(segment: number, flags: number): boolean {
  return segment === 0 || isTrimLike(flags);
}

export async function readSnapshotRange(store: SnapshotStore, req: RestoreRead): Promise<RestoreChunk> {
  const snap = store.get(req.volume, req.name);
  const h = snap.header;
  if (req.seq !== undefined && req.seq !== h.barrierSeq) {
    throw new InvalidArgumentError(`snapshot ${req.volume}@${req.name} was replaced during the restore (barrier ${h.barrierSeq}, the restore began at ${req.seq}); run the restore again`);
  }
  const tb = store.engine.layout.trackBytes;
  if (req.offset % tb !== 0 || req.offset + req.length > h.capacityBytes) {
    throw new InvalidArgumentError(`bytes ${req.offset}+${req.length} are not track-aligned or lie outside ${req.volume}@${req.name} (${h.capacityBytes} bytes)`);
  }
  const end = req.offset + req.length;
  const holes: [number, number][] = [];
  const parts: Buffer[] = [];
  const dir = snap.dir;
  for (let t = req.offset / tb; t * tb < end; t++) {
    const from = t * tb;
    const to = Math.min(end, from + tb);
    if (isHoleEntry(dir.segmentOf(t), dir.flagsOf(t))) {
      const last = holes[holes.length - 1];
      if (last && last[0] + last[1] === from) last[1] += to - from;
      else holes.push([from, to - from]);
      continue;
    }
    const buf = Buffer.alloc(tb);
    await store.engine.readTrack(h.volumeId, t, buf, 0, dir);
    parts.push(to - from === tb ? buf : buf.subarray(0, to - from));
  }
  return { id: req.id, seq: h.barrierSeq, capacityBytes: h.capacityBytes, holes, data: Buffer.concat(parts) };
}
