// Rebuilding a failed disk: a new blank file, then segment by segment its column (data or
// parity) recomputed from the other disks and written, in order, resumably. Progress is kept
// in NVRAM (`meta.rebuild` = {disk, next}); a rebuild killed half way continues from `next`.
// While a rebuild is under way the new file receives every new write (so what is behind
// `next` stays correct) but is never read; it becomes a normal disk only when the last
// segment is done.

import { InvalidArgumentError } from '../errors';
import { parityScratch, rewriteParity } from '../array/rewrite-parity';
import type { LsaEngine } from './engine';

export interface RebuildProgress {
  disk: number;
  segmentsDone: number;
  segmentsTotal: number;
  bytesWritten: number;
  resumedAt: number;
}

/** Segments per NVRAM progress commit. */
const COMMIT_EVERY_SEGMENTS = 16;

export async function rebuildDisk(engine: LsaEngine, disk: number, onProgress?: (p: RebuildProgress) => void): Promise<RebuildProgress> {
  const l = engine.layout;
  if (!Number.isInteger(disk) || disk < 0 || disk >= l.disks) {
    throw new InvalidArgumentError(`--disk must be from 0 to ${l.disks - 1}; got ${disk}`);
  }
  const health = engine.array.health[disk];
  const saved = engine.nvram.meta().get('rebuild');
  const resume = saved ? (JSON.parse(saved) as { disk: number; next: number }) : null;
  if (resume && resume.disk !== disk) {
    throw new InvalidArgumentError(`a rebuild of disk ${resume.disk} is under way; finish it first: lsa rebuild --dir ${engine.dir} --disk ${resume.disk}`);
  }
  if (health === 'ok' && !resume) {
    throw new InvalidArgumentError(`disk ${disk} is healthy; nothing to rebuild`);
  }
  const others = engine.array.health.filter((h, i) => i !== disk && h !== 'ok');
  if (others.length > 0) {
    throw new InvalidArgumentError(`another disk is failed too (${engine.array.health.map((h, i) => `${i}:${h}`).join(' ')}); one parity column cannot rebuild two disks`);
  }
  let next = 1;
  if (resume && health === 'rebuilding') next = Math.max(1, resume.next);
  else {
    await engine.array.beginRebuild(disk, true);
    engine.nvram.commit({ pages: [], segments: [], meta: { rebuild: JSON.stringify({ disk, next: 1 }) } });
  }
  const progress: RebuildProgress = { disk, segmentsDone: next - 1, segmentsTotal: l.segments - 1, bytesWritten: 0, resumedAt: next };
  const cb = l.columnBytes;
  const scratch = parityScratch(cb);
  const col = scratch.column;
  for (let s = next; s < l.segments; s++) {
    const row = engine.segments.row(s);
    if (row.state === 'closed' || row.state === 'collecting') {
      const column = l.columnOnDisk(s, disk);
      if (column >= 0) {
        await engine.array.reconstructColumn(s, column, 0, col);
        await engine.array.writeColumn(s, column, 0, col);
      } else {
        await rewriteParity(engine.array, s, scratch);
      }
      progress.bytesWritten += cb;
    } else if (row.state === 'open') {
      // the open segment lives in memory; put its written part of this disk's column back
      const column = l.columnOnDisk(s, disk);
      if (column >= 0) {
        const data = await engine.readSegmentData(s, column * cb, (column + 1) * cb);
        await engine.array.writeColumn(s, column, 0, data);
        progress.bytesWritten += cb;
      }
    }
    progress.segmentsDone = s;
    if (s % COMMIT_EVERY_SEGMENTS === 0 || s === l.segments - 1) {
      await engine.array.syncDisk(disk);
      engine.nvram.commit({ pages: [], segments: [], meta: { rebuild: JSON.stringify({ disk, next: s + 1 }) } });
    }
    onProgress?.(progress);
  }
  await engine.array.syncDisk(disk);
  engine.array.finishRebuild(disk);
  engine.nvram.commit({ pages: [], segments: [], meta: { rebuild: '' } });
  return progress;
}
