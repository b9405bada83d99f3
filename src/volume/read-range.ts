// A byte range of a volume (or of a snapshot, through its directory) read into a buffer: the
// whole tracks in one engine.readTracks call, a partial track at either end through a scratch
// track.

import type { VolumeDirectory } from '../lsa/directory';
import type { HostIo } from '../lsa/engine-ports';

/** Fills `out` with the volume's bytes from `offset` (the caller checked the range). */
export async function readRange(engine: Pick<HostIo, 'layout' | 'readTrack' | 'readTracks'>, volumeId: number, offset: number, out: Buffer, from?: VolumeDirectory): Promise<void> {
  const tb = engine.layout.trackBytes;
  const end = offset + out.length;
  const firstWhole = Math.ceil(offset / tb);
  const endWhole = Math.floor(end / tb);
  if (firstWhole < endWhole) await engine.readTracks(volumeId, firstWhole, endWhole - firstWhole, out, firstWhole * tb - offset, from);
  const partial = async (t: number): Promise<void> => {
    const scratch = Buffer.allocUnsafe(tb);
    await engine.readTrack(volumeId, t, scratch, 0, from);
    const a = Math.max(offset, t * tb);
    const b = Math.min(end, (t + 1) * tb);
    scratch.copy(out, a - offset, a - t * tb, b - t * tb);
  };
  const head = Math.floor(offset / tb);
  if (offset % tb !== 0 || (firstWhole >= endWhole && out.length > 0)) await partial(head);
  const tail = Math.floor((end - 1) / tb);
  if (end % tb !== 0 && tail !== head) await partial(tail);
}
