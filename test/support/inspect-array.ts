// A small real array with a known history, for the inspect tests: tracks 0..9 written with
// the byte value 0x10 + track, track 3 rewritten (0xee; its first record becomes garbage),
// tracks 20..29 trimmed, flushed and closed.

import { createArray } from '../../src/lsa/open-array';
import { volumeByName } from '../../src/volume/volume';

export const INSPECT_GEOMETRY = { disks: 4, columnBytes: 64 * 1024, diskBytes: 4 * 1024 * 1024, trackBytes: 4096 };
export const INSPECT_CAPACITY = 1024 * 1024;
export const TRACK_BYTES = INSPECT_GEOMETRY.trackBytes;

export function trackPattern(track: number): number {
  return track === 3 ? 0xee : 0x10 + track;
}

export async function makeInspectArray(dir: string): Promise<void> {
  const engine = await createArray(dir, { geometry: INSPECT_GEOMETRY, volume: { name: 'vol0', capacityBytes: INSPECT_CAPACITY } });
  try {
    const v = volumeByName(engine, 'vol0');
    const data = Buffer.alloc(10 * TRACK_BYTES);
    for (let t = 0; t < 10; t++) data.fill(0x10 + t, t * TRACK_BYTES, (t + 1) * TRACK_BYTES);
    await v.write(0, data);
    await v.flush();
    await v.write(3 * TRACK_BYTES, Buffer.alloc(TRACK_BYTES, 0xee));
    await v.trim(20 * TRACK_BYTES, 10 * TRACK_BYTES);
    await v.flush();
  } finally {
    await engine.close();
  }
}
