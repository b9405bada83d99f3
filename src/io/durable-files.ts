// Durable file replacement on the host filesystem, for files beside the disk files (the NVRAM
// file): build a new file under a temporary name, fsync it, rename it into place, fsync the
// folder. A file being replaced is renamed aside, never deleted or overwritten.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { IoError } from '../errors';

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
      fs.renameSync(from, to);
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
    fs.rmSync(p, { force: true });
  } catch (err) {
    throw ioError('remove', p, err);
  }
}
