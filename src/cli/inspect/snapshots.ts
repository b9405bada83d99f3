// Snapshot files of an array: `<dir>/snapshots/<volume>/<name>.snap`. Only listed (volume,
// name, size, time): their content belongs to the snapshot code, which reads it itself.

import { joinPath, listDirectory } from '../../io/files';

export const SNAPSHOTS_FOLDER = 'snapshots';
export const SNAPSHOT_SUFFIX = '.snap';

export interface SnapshotFile {
  volume: string;
  name: string;
  path: string;
  sizeBytes: number;
  mtimeMs: number;
}

export function listSnapshots(dir: string): SnapshotFile[] {
  const root = joinPath(dir, SNAPSHOTS_FOLDER);
  const out: SnapshotFile[] = [];
  for (const volume of listDirectory(root) ?? []) {
    if (!volume.isDirectory) continue;
    for (const f of listDirectory(joinPath(root, volume.name)) ?? []) {
      if (f.isDirectory || !f.name.endsWith(SNAPSHOT_SUFFIX)) continue;
      out.push({
        volume: volume.name,
        name: f.name.slice(0, -SNAPSHOT_SUFFIX.length),
        path: joinPath(root, volume.name, f.name),
        sizeBytes: f.sizeBytes,
        mtimeMs: Math.round(f.mtimeMs),
      });
    }
  }
  return out;
}
