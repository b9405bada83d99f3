// Restore of a primary volume to a snapshot held by the secondary, through the pair: the
// primary reads the snapshot back range by range (RESTORE_READ / RESTORE_DATA) and writes what
// differs into its volume through the volume API, as a host would. Those writes get write
// sequence tokens and replicate back to the secondary, so the pair stays duplex, and the
// primary keeps serving throughout. Tracks that already hold the snapshot's bytes are left
// alone, so restoring a volume that changed a little costs little.
//
// Host writes to the volume during a restore race it (each range ends as whichever wrote it
// last); quiesce the host first if the result must be exactly the snapshot. A restore that
// fails half way leaves a mix: run it again.

import { InvalidArgumentError, TimeoutError } from '../errors';
import { systemClock, type Clock } from '../io/clock';
import type { HostIo } from '../lsa/engine-ports';
import type { PrimaryReplicator } from '../replication/primary';
import { RESTORE_CHUNK_BYTES_MAX, type RestoreChunk } from '../replication/restore-messages';
import { isHoleEntry } from './snapshot-range';
import type { Logger } from '../util/log';
import { volumeByName } from '../volume/volume';

/** What of the remote copy a restore uses: reads of snapshot ranges from the secondary. */
export type RestoreLink = Pick<PrimaryReplicator, 'readSnapshotRange'>;

export interface RestoreResult {
  volume: string;
  name: string;
  seq: number;
  bytesWritten: number;
  bytesTrimmed: number;
  bytesUnchanged: number;
  durationMs: number;
}

type Action = 'write' | 'trim' | 'keep';

/** One run of tracks of a chunk that get the same action. */
interface Run {
  action: Action;
  offset: number;
  length: number;
  /** Where the run's bytes start in the chunk's full-range image (writes). */
  at: number;
}

/** The chunk as a full image of its range (holes as zeros), and which bytes were holes. */
function expand(offset: number, length: number, c: RestoreChunk): { image: Buffer; hole: (pos: number) => boolean } {
  const image = Buffer.alloc(length);
  let src = 0;
  let pos = offset;
  for (const [hOff, hLen] of c.holes) {
    src += c.data.copy(image, pos - offset, src, src + (hOff - pos));
    pos = hOff + hLen;
  }
  c.data.copy(image, pos - offset, src);
  const hole = (p: number): boolean => c.holes.some(([o, l]) => p >= o && p < o + l);
  return { image, hole };
}

export async function restoreFromSecondary(engine: HostIo, rep: RestoreLink, volume: string, name: string, timeoutMs: number, log: Logger, clock: Clock = systemClock): Promise<RestoreResult> {
  const t0 = clock.nowMs();
  const deadline = t0 + timeoutMs;
  const v = volumeByName(engine, volume);
  const tb = v.trackBytes;
  const dir = v.state.directory;
  const chunkBytes = Math.floor(RESTORE_CHUNK_BYTES_MAX / tb) * tb;
  const result: RestoreResult = { volume, name, seq: 0, bytesWritten: 0, bytesTrimmed: 0, bytesUnchanged: 0, durationMs: 0 };
  // the first answer fixes the snapshot (its barrier); later reads name it, and one read runs
  // ahead while the previous range is written
  const read = (offset: number, seq: number | undefined): Promise<RestoreChunk> => {
    const left = deadline - clock.nowMs();
    if (left <= 0) return Promise.reject(new TimeoutError(`the restore of ${volume} did not finish within ${timeoutMs} ms (${offset} of ${v.sizeBytes} bytes done); run it again with a longer --timeout`));
    return rep.readSnapshotRange({ volume, name, offset, length: Math.min(chunkBytes, v.sizeBytes - offset), ...(seq === undefined ? {} : { seq }) }, left);
  };
  const first = await read(0, undefined);
  if (first.capacityBytes !== v.sizeBytes) {
    throw new InvalidArgumentError(`snapshot ${volume}@${name} is ${first.capacityBytes} bytes, the volume ${v.sizeBytes}: it cannot be restored into it`);
  }
  const seq = first.seq;
  result.seq = seq;
  log.info('restore started', { volume, snapshot: name, seq, bytes: v.sizeBytes });
  let ahead: Promise<RestoreChunk> | null = Promise.resolve(first);
  let nextLogPct = 25;
  for (let offset = 0; offset < v.sizeBytes; offset += chunkBytes) {
    const length = Math.min(chunkBytes, v.sizeBytes - offset);
    const chunk: RestoreChunk = await ahead!;
    ahead = offset + chunkBytes < v.sizeBytes ? read(offset + chunkBytes, seq) : null;
    ahead?.catch(() => undefined); // awaited in the next round; not unhandled if this one fails
    const { image, hole } = expand(offset, length, chunk);
    const current = await v.read(offset, length);
    const runs: Run[] = [];
    for (let pos = offset; pos < offset + length; pos += tb) {
      const n = Math.min(tb, offset + length - pos);
      const t = pos / tb;
      let action: Action;
      if (hole(pos)) action = isHoleEntry(dir.segmentOf(t), dir.flagsOf(t)) ? 'keep' : 'trim';
      else action = image.subarray(pos - offset, pos - offset + n).equals(current.subarray(pos - offset, pos - offset + n)) ? 'keep' : 'write';
      const last = runs[runs.length - 1];
      if (last && last.action === action) last.length += n;
      else runs.push({ action, offset: pos, length: n, at: pos - offset });
    }
    for (const r of runs) {
      if (r.action === 'write') {
        await v.write(r.offset, image.subarray(r.at, r.at + r.length));
        result.bytesWritten += r.length;
      } else if (r.action === 'trim') {
        await v.trim(r.offset, r.length);
        result.bytesTrimmed += r.length;
      } else {
        result.bytesUnchanged += r.length;
      }
    }
    const pct = ((offset + length) / v.sizeBytes) * 100;
    if (pct >= nextLogPct && pct < 100) {
      log.info('restore progress', { volume, percent: Math.floor(pct) });
      nextLogPct += 25;
    }
  }
  await v.flush();
  result.durationMs = clock.nowMs() - t0;
  log.info('restore done', { ...result });
  return result;
}
