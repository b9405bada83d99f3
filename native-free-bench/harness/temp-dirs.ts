// Temporary folders for the scenarios' files, removed when the scenario ends and, on Ctrl-C,
// before the process exits (a benchmark may leave gigabytes behind otherwise).

import * as fs from 'node:fs';
import * as path from 'node:path';

const live = new Set<string>();
let handlerInstalled = false;

function removeAll(): void {
  for (const dir of live) fs.rmSync(dir, { recursive: true, force: true });
  live.clear();
}

function installHandler(): void {
  if (handlerInstalled) return;
  handlerInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      removeAll();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

export function makeTempDir(root: string, prefix: string): string {
  installHandler();
  fs.mkdirSync(root, { recursive: true });
  const dir = fs.mkdtempSync(path.join(root, prefix));
  live.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  live.delete(dir);
}
