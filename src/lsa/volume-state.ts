// A volume as the engine holds it: its row of the volume table (NVRAM), its size in tracks and
// its directory.

import { InvalidArgumentError } from '../errors';
import type { VolumeDirectory } from './directory';
import type { VolumeRow } from './nvram';

export interface VolumeState {
  row: VolumeRow;
  tracks: number;
  directory: VolumeDirectory;
}

/** The volume with this id, or InvalidArgumentError. */
export function volumeById(volumes: ReadonlyMap<number, VolumeState>, id: number): VolumeState {
  const v = volumes.get(id);
  if (!v) throw new InvalidArgumentError(`no volume with id ${id}`);
  return v;
}
