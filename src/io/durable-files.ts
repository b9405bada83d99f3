// Durable file replacement on the host filesystem, for files beside the disk files (the NVRAM
// file): build a new file under a temporary name, fsync it, rename it into place, fsync the
// folder. A file being replaced is renamed aside, never deleted or overwritten.

//
// fs-extra does the folder and move work; the replacement itself stays a plain rename, because
// fs-extra's move with `overwrite` removes the target before renaming (a crash in between
// would leave no file) and its outputFile writes in place; neither syncs.

import * as fs from 'node:fs';
import * as path from 'node:path';
import fse from 'fs-extra';
import { IoError } from '../errors';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from './files';

function ioError(op: string, p: string, err: unknown): IoError {
  return new IoError(`${op} ${p}: ${(err as Error).message}`, { path: p, op, errno: (err as NodeJS.ErrnoException).code }, err);
}

/** fsync of a file or a folder (a folder's fsync makes renames in it durable). */
export function fsyncPath(p: string): void {
  let fd = -1;
  try {
    fd = fs.openSync(p, 'r');
    fs.fsyncSync(fd);
  } catch (err) {
    throw ioError('fsync', p, err);
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

/** Renames `from` over `to` and makes the rename durable. */
export function renameDurable(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (err) {
    throw ioError('rename', from, err);
  }
  fsyncPath(path.dirname(to));
}

/** Moves `file` and its companions (for SQLite: `-wal`, `-shm`) aside under `file + suffix`,
 * keeping each companion's own suffix, so they stay together. Returns the paths moved to. */
export function moveAside(file: string, suffix: string, companions: string[]): string[] {
  const moved: string[] = [];
  const extras = ['', ...companions];
  // never over an earlier one moved aside with the same suffix
  let unique = suffix;
  for (let n = 1; extras.some((extra) => fs.existsSync(file + unique + extra)); n++) unique = `${suffix}-${n}`;
  for (const extra of extras) {
    const from = file + extra;
    if (!fs.existsSync(from)) continue;
    const to = file + unique + extra;
    try {
      fse.moveSync(from, to); // never over an existing file
    } catch (err) {
      throw ioError('rename', from, err);
    }
    moved.push(to);
  }
  if (moved.length > 0) fsyncPath(path.dirname(file));
  return moved;
}

/** Removes a file of ours (a leftover temporary) if it exists. */
export function removeIfExists(p: string): void {
  try {
    fse.removeSync(p);
  } catch (err) {
    throw ioError('remove', p, err);
  }
}

/** Writes `parts` to `to` atomically: a temporary file beside it, fsync, rename, fsync of the
 * folder. Readers see the old file or the new one, never a mix, also after a crash. The file
 * is 0600 and a folder made for it 0700. */
export async function writeFileAtomic(to: string, parts: Buffer[]): Promise<void> {
  const dir = path.dirname(to);
  if (!fs.existsSync(dir)) ensurePrivateDir(dir);
  const tmp = path.join(dir, `.${path.basename(to)}.tmp-${process.pid}`);
  let fh: fs.promises.FileHandle | null = null;
  try {
    fh = await fs.promises.open(tmp, 'w', PRIVATE_FILE_MODE);
    await fh.chmod(PRIVATE_FILE_MODE);
    for (const p of parts) await fh.write(p);
    await fh.sync();
  } catch (err) {
    throw ioError('write', tmp, err);
  } finally {
    await fh?.close();
  }
  renameDurable(tmp, to);
}

/** Temporaries of writeFileAtomic left in `dir` (and its subfolders one level down) by a
 * process that died before its rename; removes them and returns their paths. Call only while
 * holding the lock that makes this process the only writer of `dir`. */
export function removeLeftoverTemporaries(dir: string): string[] {
  const removed: string[] = [];
  if (!fs.existsSync(dir)) return removed;
  const folders = [dir, ...fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name))];
  for (const folder of folders) {
    for (const f of fs.readdirSync(folder)) {
      const m = /^\..+\.tmp-(\d+)$/.exec(f);
      if (!m || Number(m[1]) === process.pid) continue;
      removeIfExists(path.join(folder, f));
      removed.push(path.join(folder, f));
    }
  }
  return removed;
}

/** Removes a file and makes the removal durable. */
export function removeDurable(p: string): void {
  removeIfExists(p);
  fsyncPath(path.dirname(p));
}

/** Files under `dir` whose names end with `suffix`, one level of subfolders deep:
 * [{folder, name}] (no error if `dir` is missing). */
export function listNested(dir: string, suffix: string): { folder: string; name: string; path: string; bytes: number; mtimeMs: number }[] {
  const out: { folder: string; name: string; path: string; bytes: number; mtimeMs: number }[] = [];
  if (!fs.existsSync(dir)) return out;
  for (const folder of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!folder.isDirectory()) continue;
    for (const f of fs.readdirSync(path.join(dir, folder.name))) {
      if (!f.endsWith(suffix) || f.startsWith('.')) continue;
      const p = path.join(dir, folder.name, f);
      const st = fs.statSync(p);
      out.push({ folder: folder.name, name: f.slice(0, -suffix.length), path: p, bytes: st.size, mtimeMs: st.mtimeMs });
    }
  }
  return out;
}

export function readWholeFile(p: string): Buffer {
  try {
    return fs.readFileSync(p);
  } catch (err) {
    throw ioError('read', p, err);
  }
}
