// A fresh array with one volume on real sparse files and real SQLite, the way `lsa init` makes
// one, for the system scenarios.

import type { Geometry } from '../../src/array/geometry';
import type { LsaEngine } from '../../src/lsa/engine';
import { createArray } from '../../src/lsa/open-array';
import { volumeByName, type Volume } from '../../src/volume/volume';

export const BENCH_VOLUME = 'bench';

export interface BenchVolume {
  engine: LsaEngine;
  volume: Volume;
}

export async function createBenchVolume(dir: string, geometry: Geometry, capacityBytes: number, compress = 'none'): Promise<BenchVolume> {
  const engine = await createArray(dir, { geometry, nvram: 'sqlite', volume: { name: BENCH_VOLUME, capacityBytes, compress } });
  return { engine, volume: volumeByName(engine, BENCH_VOLUME) };
}
