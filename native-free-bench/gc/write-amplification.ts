// One measurement of the gc scenario: a fresh array on the in-memory twins (SimDiskSystem,
// nvram 'memory'), one volume of `utilization` x usableBytes, every track written once, then
// single-track 4 KiB overwrites drawn from the workload. Counters are read after
// `warmupPasses` volume-overwrites and again after `measurePasses` more:
//   write amplification = (host bytes + bytes the collector moved) / host bytes.

import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import * as path from 'node:path';
import type { Geometry } from '../../src/array/geometry';
import { SimDiskSystem } from '../../src/io/sim-disk';
import type { GcPolicyName } from '../../src/lsa/gc-policy';
import { createArray } from '../../src/lsa/open-array';
import { createVolume, usableBytes } from '../../src/lsa/volumes';
import { Prng } from '../../src/util/prng';
import { volumeByName } from '../../src/volume/volume';
import { randomBytes } from '../harness/random-data';
import { trackPicker, type GcWorkload } from './track-workload';

/** Host writes between two turns of the event loop. The background collector is scheduled
 * with setImmediate; the simulated disks complete in microtasks, so without these turns it
 * would never run and every collection would be the urgent (greedy) one a blocked write
 * starts. A host's requests arriving one by one give it the same turns. */
const WRITES_PER_EVENT_LOOP_TURN = 16;
/** Distinct 4 KiB payloads cycled through (content does not matter, but must not be zeros:
 * zero tracks are stored as ZERO records without data). */
const PAYLOADS = 64;
const VOLUME_NAME = 'gc';

export interface CellSpec {
  policy: GcPolicyName;
  workload: GcWorkload;
  utilization: number;
  geometry: Geometry;
  warmupPasses: number;
  measurePasses: number;
  /** Seed of the writes; the hot tracks' places come from `layoutSeed`. */
  seed: number;
  layoutSeed: number;
  /** A folder for createArray (its disks are in memory, the folder stays empty). */
  dir: string;
}

export interface CellResult {
  writeAmplification: number;
  tracks: number;
  hostBytes: number;
  movedBytes: number;
}

export async function measureCell(c: CellSpec): Promise<CellResult> {
  const engine = await createArray(path.join(c.dir, `${c.policy}-${c.workload}-${c.utilization}`), {
    geometry: c.geometry, disks: new SimDiskSystem(), nvram: 'memory', lock: false, gcPolicy: c.policy, volume: null,
  });
  try {
    const tb = c.geometry.trackBytes;
    // utilization is of usableBytes: what the array holds with the collector's reserve and
    // one open segment kept back, so the volume always fits without overcommit
    const tracks = Math.floor((usableBytes(engine) * c.utilization) / tb);
    await createVolume(engine, VOLUME_NAME, tracks * tb, 'none');
    const volume = volumeByName(engine, VOLUME_NAME);
    const payloads = randomBytes(PAYLOADS * tb, c.seed);
    let writes = 0;
    const write = async (track: number): Promise<void> => {
      const k = writes % PAYLOADS;
      await volume.write(track * tb, payloads.subarray(k * tb, (k + 1) * tb));
      if (++writes % WRITES_PER_EVENT_LOOP_TURN === 0) await yieldToEventLoop();
    };
    for (let t = 0; t < tracks; t++) await write(t);
    const pick = trackPicker(c.workload, tracks, c.layoutSeed, new Prng(c.seed));
    for (let i = 0; i < c.warmupPasses * tracks; i++) await write(pick());
    const host0 = engine.stats.hostBytesWritten;
    const moved0 = engine.stats.gcBytesMoved;
    for (let i = 0; i < c.measurePasses * tracks; i++) await write(pick());
    const hostBytes = engine.stats.hostBytesWritten - host0;
    const movedBytes = engine.stats.gcBytesMoved - moved0;
    return { writeAmplification: (hostBytes + movedBytes) / hostBytes, tracks, hostBytes, movedBytes };
  } finally {
    await engine.close();
  }
}
