// Disk files opened read-only (O_RDONLY), for looking at an array that another process is
// running (`lsa inspect` of an array in use, `--watch`). Nothing can be created, replaced,
// written or synced through this system: each such call is a ReadOnlyError, so a code path
// that would write is caught at the seam rather than changing a live array.

import * as fs from 'node:fs';
import { ReadOnlyError } from '../errors';
import type { DiskSystem } from './disk-file';
import { lengthOfFile, openDiskFile } from './real-disk';

function refuse(op: string, path: string): never {
  throw new ReadOnlyError(`${op} ${path}: disk files are open read-only here (inspection never writes)`, { path, op });
}

export const readOnlyDisks: DiskSystem = {
  create: async (path) => refuse('create', path),
  replace: async (path) => refuse('replace', path),
  open: async (path) => openDiskFile(path, true),
  exists: (path) => fs.existsSync(path),
  lengthOf: lengthOfFile,
};
