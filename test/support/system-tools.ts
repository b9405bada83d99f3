// External programs the interop tests drive (qemu-io, nbdinfo, fio, ...). ensureTools() finds
// them and, when one is missing and we are root, installs the Debian packages once per run
// (apt-get update, then apt-get install). Under CI=true a tool still missing fails the test;
// elsewhere the test is skipped with a message saying what to install.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Debian package of each tool. */
export const TOOL_PACKAGES: Record<string, string> = {
  'qemu-io': 'qemu-utils',
  'qemu-img': 'qemu-utils',
  'qemu-nbd': 'qemu-utils',
  nbdinfo: 'libnbd-bin',
  nbdcopy: 'libnbd-bin',
  nbdfuse: 'libnbd-bin',
  fio: 'fio',
  nbdkit: 'nbdkit',
  'mkfs.ext4': 'e2fsprogs',
  e2fsck: 'e2fsprogs',
  fusermount3: 'fuse3',
  losetup: 'mount',
  mount: 'mount',
};

/** Everything the NBD tests use, installed together so one apt-get run serves them all. */
export const ALL_PACKAGES = ['qemu-utils', 'libnbd-bin', 'fio', 'nbdkit', 'e2fsprogs', 'fuse3'];

const EXTRA_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The full path of a program, or null. */
export function findTool(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const d of dirs) {
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return null;
}

export function toolPath(name: string): string {
  const p = findTool(name);
  if (!p) throw new Error(`${name} is not installed (Debian package ${TOOL_PACKAGES[name] ?? '?'})`);
  return p;
}

let installAttempted = false;
let installLog = '';

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function installPackages(): void {
  if (installAttempted) return;
  installAttempted = true;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  console.log(`      installing ${ALL_PACKAGES.join(' ')} with apt-get (once per run)`);
  const update = spawnSync('apt-get', ['update'], { env, encoding: 'utf8', timeout: 300_000 });
  installLog += `apt-get update: exit ${update.status}\n${(update.stderr ?? '').slice(-2000)}\n`;
  const install = spawnSync('apt-get', ['install', '-y', ...ALL_PACKAGES], { env, encoding: 'utf8', timeout: 600_000 });
  installLog += `apt-get install: exit ${install.status}\n${(install.stderr ?? '').slice(-2000)}\n`;
}

/**
 * Makes sure every named tool is there; call from a before() hook (give it a long timeout:
 * the first call may install packages). Missing tools fail the test under CI=true, and skip
 * it elsewhere.
 */
export function ensureTools(ctx: Mocha.Context, names: string[]): void {
  let missing = names.filter((n) => !findTool(n));
  if (missing.length > 0 && isRoot()) {
    installPackages();
    missing = names.filter((n) => !findTool(n));
  }
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((n) => TOOL_PACKAGES[n] ?? n))];
  const message = `missing tools: ${missing.join(', ')} (install with: apt-get install -y ${pkgs.join(' ')})`;
  if (process.env.CI === 'true') {
    throw new Error(`${message}; under CI=true a missing tool fails the test${installLog ? `\n${installLog}` : ''}`);
  }
  console.log(`      SKIPPED: ${message}`);
  ctx.skip();
}
