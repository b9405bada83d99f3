// Small helpers for the array's folder: the SQLite file, lock and key files live beside the
// disk files on the host filesystem. Everything an array holds is private to the user who runs
// it: folders 0700, files 0600, set after the create so that a umask cannot change them.

import * as fs from 'node:fs';
import * as path from 'node:path';
import fse from 'fs-extra';
import { IoError, NotFoundError } from '../errors';

/** Owner only (list, create, enter). */
export const PRIVATE_DIR_MODE = 0o700;
/** Owner read and write only. */
export const PRIVATE_FILE_MODE = 0o600;

/** Makes `dir` (and missing parents) if it is not there. */
export function ensureDir(dir: string): void {
  fse.ensureDirSync(dir, PRIVATE_DIR_MODE);
}

/** Makes `dir` if needed and sets it, and every parent it had to make, to 0700: an array's
 * folder, a folder of snapshots. */
export function ensurePrivateDir(dir: string): void {
  const made: string[] = [];
  for (let d = path.resolve(dir); !fs.existsSync(d); d = path.dirname(d)) made.push(d);
  try {
    fse.ensureDirSync(dir, PRIVATE_DIR_MODE);
    for (const d of new Set([path.resolve(dir), ...made])) fs.chmodSync(d, PRIVATE_DIR_MODE);
  } catch (err) {
    throw new IoError(`cannot create ${dir}: ${(err as Error).message}`, { path: dir }, err);
  }
}

/** Creates `p` empty with mode 0600 if it does not exist (a file another program fills, such
 * as SQLite's, whose companions -wal and -shm take the same mode). */
export function createPrivateFile(p: string): void {
  let fd = -1;
  try {
    fd = fs.openSync(p, 'a', PRIVATE_FILE_MODE);
    fs.fchmodSync(fd, PRIVATE_FILE_MODE);
  } catch (err) {
    throw new IoError(`cannot create ${p}: ${(err as Error).message}`, { path: p }, err);
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

export function fileExists(p: string): boolean {
  return fs.existsSync(p);
}

export function joinPath(...parts: string[]): string {
  return path.join(...parts);
}

export function removeFile(p: string): void {
  fse.removeSync(p);
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

/** Copies `from` to `to` (refusing to replace anything there), owner-only (keys). */
export function copyFileIfMissing(from: string, to: string): void {
  fse.copySync(from, to, { overwrite: false, errorOnExist: true, dereference: false });
  fs.chmodSync(to, PRIVATE_FILE_MODE);
}
