// Snapshot files read straight from the folder, without opening the array: listing and diffing
// need no lock, so they work beside a running `lsa serve` (the files are replaced atomically,
// so a reader sees a whole old or a whole new file).

import * as path from 'node:path';
import { NotFoundError } from '../errors';
import { fileExists } from '../io/files';
import { listNested, readWholeFile } from '../io/durable-files';
import type { Layout } from '../array/geometry';
import { VolumeDirectory } from '../lsa/directory';
import { decodeSnapshot, type SnapshotHeader } from './snapshot-file';
import { SNAPSHOT_DIR, SNAPSHOT_SUFFIX, snapshotPath } from './snapshot-store';

export interface SnapshotFileEntry {
  volume: string;
  name: string;
  path: string;
  fileBytes: number;
  /** Null when the file does not decode; `error` says why. */
  header: SnapshotHeader | null;
  error: string | null;
}

/** Every snapshot file of the array, each checked (against `layout`, the array's, when the
 * caller has it open); a damaged one has `error` and no header. */
export function listSnapshotFiles(arrayDir: string, layout?: Layout): SnapshotFileEntry[] {
  const out: SnapshotFileEntry[] = [];
  for (const f of listNested(path.join(arrayDir, SNAPSHOT_DIR), SNAPSHOT_SUFFIX)) {
    let header: SnapshotHeader | null = null;
    let error: string | null = null;
    try {
      header = decodeSnapshot(readWholeFile(f.path), f.path, { volume: f.folder, name: f.name, ...(layout ? { layout } : {}) }).header;
    } catch (err) {
      error = (err as Error).message;
    }
    out.push({ volume: f.folder, name: f.name, path: f.path, fileBytes: f.bytes, header, error });
  }
  return out.sort((a, b) => a.volume.localeCompare(b.volume) || (a.header?.createdAtMs ?? 0) - (b.header?.createdAtMs ?? 0) || a.name.localeCompare(b.name));
}

/** One snapshot's header and directory copy, checked (CRCs) as it is read. */
export function readSnapshotFile(arrayDir: string, volume: string, name: string): { header: SnapshotHeader; dir: VolumeDirectory } {
  const p = snapshotPath(arrayDir, volume, name);
  if (!fileExists(p)) {
    const names = listSnapshotFiles(arrayDir).filter((s) => s.volume === volume).map((s) => s.name);
    throw new NotFoundError(`no snapshot "${name}" of volume "${volume}" in ${arrayDir} (${names.length ? `there are: ${names.join(', ')}` : 'it has none'})`, { volume, name });
  }
  const { header, entries, tracks } = decodeSnapshot(readWholeFile(p), p, { volume, name });
  const dir = new VolumeDirectory(tracks, false);
  Buffer.from(dir.words.buffer, dir.words.byteOffset, entries.length).set(entries);
  return { header, dir };
}
