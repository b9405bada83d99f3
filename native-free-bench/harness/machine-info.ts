// The machine a result was measured on, recorded in every results file.

import { execFileSync } from 'node:child_process';
import * as os from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  totalMemBytes: number;
  platform: string;
  kernel: string;
  node: string;
  date: string;
  /** The commit the benchmark ran on, if the repository is a git checkout. */
  gitCommit: string | null;
  gitDirty: boolean | null;
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: __dirname, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  } catch {
    return null;
  }
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  const status = git(['status', '--porcelain', '--untracked-files=no']);
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism?.() ?? cpus.length,
    totalMemBytes: os.totalmem(),
    platform: `${os.platform()}-${os.arch()}`,
    kernel: os.release(),
    node: process.version,
    date: new Date().toISOString(),
    gitCommit: git(['rev-parse', 'HEAD']),
    gitDirty: status === null ? null : status.length > 0,
  };
}
