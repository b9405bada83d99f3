// A volume as the engine holds it: its row of the volume table (NVRAM), its size in tracks and
// its directory.

import type { VolumeDirectory } from './directory';
import type { VolumeRow } from './nvram';

export interface VolumeState {
  row: VolumeRow;
  tracks: number;
  directory: VolumeDirectory;
}
