// The volume table: names, ids and capacities, kept in NVRAM and mirrored in every disk's
// superblock so the array can be rebuilt from its disks alone.

import { AlreadyExistsError, InvalidArgumentError, OutOfSpaceError } from '../errors';
import { formatSize } from '../util/size';
import type { LsaEngine, VolumeState } from './engine';
import type { VolumeRow } from './nvram';
import { RESERVED_SEGMENTS } from './space';
import { STREAMS } from './placement';
import { recordBytes } from './record-format';
import { checkCompressMode } from './track-codec';

export const VOLUME_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export { COMPRESS_MODES } from './track-codec';

export interface VolumeLabel {
  formatVersion: number;
  volumes: { id: number; name: string; capacityBytes: number; compress: string }[];
}

export function volumeLabel(engine: LsaEngine): VolumeLabel {
  const volumes = [...engine.volumesById.values()]
    .map((v) => ({ id: v.row.id, name: v.row.name, capacityBytes: v.row.capacityBytes, compress: v.row.compress }))
    .sort((a, b) => a.id - b.id);
  return { formatVersion: 1, volumes };
}

export function validateVolumeName(name: string): void {
  if (!VOLUME_NAME.test(name)) {
    throw new InvalidArgumentError(`volume name "${name}" is not allowed: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`, { name });
  }
}

export interface CreateVolumeOptions {
  /** Allow the volumes' capacities to add up to more than the array holds (thin
   * provisioning): writes then fail with LSA_OUT_OF_SPACE when the array is truly full. */
  overcommit?: boolean;
}

export async function createVolume(engine: LsaEngine, name: string, capacityBytes: number, compress: string, opts: CreateVolumeOptions = {}): Promise<VolumeState> {
  validateVolumeName(name);
  if (engine.volumesByName.has(name)) throw new AlreadyExistsError(`volume "${name}" exists already`, { name });
  if (!Number.isSafeInteger(capacityBytes) || capacityBytes <= 0 || capacityBytes % 512 !== 0) {
    throw new InvalidArgumentError(`--capacity must be a positive multiple of 512 bytes; got ${capacityBytes}`, { capacityBytes });
  }
  checkCompressMode(compress);
  const used = [...engine.volumesById.values()].reduce((s, v) => s + v.tracks * engine.layout.trackBytes, 0);
  const tb = engine.layout.trackBytes;
  const need = Math.ceil(capacityBytes / tb) * tb;
  const limit = usableBytes(engine);
  if (used + need > limit && !opts.overcommit) {
    throw new OutOfSpaceError(
      `--capacity ${formatSize(capacityBytes)} does not fit: the array holds ${formatSize(limit)} of volume data (${formatSize(limit - used)} still unassigned); use a smaller capacity, a bigger array, or --overcommit for thin provisioning`,
      { capacityBytes, limit, used },
    );
  }
  const id = Math.max(0, ...engine.volumesById.keys()) + 1;
  const row: VolumeRow = { id, name, capacityBytes, createdAtMs: engine.clock.nowMs(), compress };
  await engine.flush();
  engine.nvram.commit({ pages: [], segments: [], meta: {}, volumesAdded: [row] });
  const state = engine.addVolumeState(row);
  await engine.array.writeSuperblocks(volumeLabel(engine));
  return state;
}

/** Host data the array can hold with the collector's reserve and an open segment per stream
 * (hot host writes, cold host writes, collector output) kept back. */
export function usableBytes(engine: LsaEngine): number {
  const l = engine.layout;
  const perColumn = Math.floor(l.columnBytes / recordBytes(l.trackBytes));
  const segments = l.dataSegments - RESERVED_SEGMENTS - STREAMS;
  return Math.max(0, perColumn * l.trackBytes * l.dataColumns * segments);
}

/** 80% of the usable space, rounded down to a whole track. */
export function defaultCapacity(engine: LsaEngine): number {
  const tb = engine.layout.trackBytes;
  return Math.floor((usableBytes(engine) * 0.8) / tb) * tb;
}
