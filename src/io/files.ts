// Small helpers for the array's folder: the SQLite file, lock and key files live beside the
// disk files on the host filesystem.

import * as fs from 'node:fs';
import * as path from 'node:path';

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
