// Small helpers for the array's folder: the SQLite file, lock and key files live beside the
// disk files on the host filesystem.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { IoError, NotFoundError } from '../errors';

export function ensureDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
}

export function fileExists(p: string): boolean {
  return fs.existsSync(p);
}

export function joinPath(...parts: string[]): string {
  return path.join(...parts);
}

export function removeFile(p: string): void {
  fs.rmSync(p, { force: true });
}

export interface DirEntry {
  name: string;
  isDirectory: boolean;
  sizeBytes: number;
  mtimeMs: number;
}

/** The entries of a folder with their size and modification time, sorted by name; null when
 * the folder does not exist (a listing of something optional, such as snapshots). Entries
 * that vanish while we look are skipped. */
export function listDirectory(dir: string): DirEntry[] | null {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new IoError(`cannot list ${dir}: ${(err as Error).message}`, { path: dir }, err);
  }
  const out: DirEntry[] = [];
  for (const name of names.sort()) {
    try {
      const st = fs.statSync(path.join(dir, name));
      out.push({ name, isDirectory: st.isDirectory(), sizeBytes: st.size, mtimeMs: st.mtimeMs });
    } catch {
      // removed meanwhile
    }
  }
  return out;
}

/** The whole content of a (small) file. */
export function readWholeFile(p: string): Buffer {
  try {
    return fs.readFileSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NotFoundError(`${p} does not exist`, { path: p });
    throw new IoError(`cannot read ${p}: ${(err as Error).message}`, { path: p }, err);
  }
}

/** Copies `from` to `to` unless `to` exists, keeping owner-only permissions (keys). */
export function copyFileIfMissing(from: string, to: string): void {
  fs.copyFileSync(from, to, fs.constants.COPYFILE_EXCL);
  fs.chmodSync(to, 0o600);
}
