// A snapshot written out as a raw image, byte for byte the volume at the barrier. Tracks that
// hold no data (never written, trimmed, zeroed) are not written: the output file is sparse
// there and reads as zeros. Data tracks go out in runs of up to EXPORT_RUN_BYTES.

import type { HostFileWriter } from '../io/host-files';
import type { HostIo } from '../lsa/engine-ports';
import { isHoleEntry } from './snapshot-range';
import type { Snapshot } from './snapshot-store';

const EXPORT_RUN_BYTES = 1024 * 1024;

export interface ExportCounts {
  bytes: number;
  /** Bytes written (the rest are holes). */
  dataBytes: number;
}

export async function exportSnapshot(engine: HostIo, snap: Snapshot, out: HostFileWriter, progress: (done: number, total: number) => void): Promise<ExportCounts> {
  const tb = engine.layout.trackBytes;
  const { capacityBytes, volumeId } = snap.header;
  const dir = snap.dir;
  const runTracksMax = Math.max(1, Math.floor(EXPORT_RUN_BYTES / tb));
  const buf = Buffer.alloc(runTracksMax * tb);
  const tracks = Math.ceil(capacityBytes / tb);
  let dataBytes = 0;
  out.truncate(0);
  for (let t = 0; t < tracks;) {
    if (isHoleEntry(dir.segmentOf(t), dir.flagsOf(t))) {
      t++;
      continue;
    }
    let n = 0;
    while (t + n < tracks && n < runTracksMax && !isHoleEntry(dir.segmentOf(t + n), dir.flagsOf(t + n))) n++;
    await engine.readTracks(volumeId, t, n, buf, 0, dir);
    const bytes = Math.min(capacityBytes, (t + n) * tb) - t * tb;
    out.write(buf.subarray(0, bytes), t * tb);
    dataBytes += bytes;
    t += n;
    progress(t * tb, capacityBytes);
  }
  out.truncate(capacityBytes);
  progress(capacityBytes, capacityBytes);
  return { bytes: capacityBytes, dataBytes };
}
