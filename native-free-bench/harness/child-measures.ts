// What the benchmark's child processes (children/*.ts) measure about themselves: their peak
// resident set, and the time to read a file start to end (their baselines).

import * as fs from 'node:fs';

export const READ_CHUNK_BYTES = 1024 * 1024;

/** Peak resident set of this process. getrusage's maxrss would do elsewhere, but on Linux it
 * keeps the high-water mark of the parent's memory copied by fork before exec, so it would
 * report the harness's size; VmHWM belongs to this process's own address space. */
export function peakRssBytes(): number {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}

/** Reads a file start to end through `buf`; returns its length (0 if it does not exist). */
export function readSequentially(file: string, buf: Buffer): number {
  if (!fs.existsSync(file)) return 0;
  const fd = fs.openSync(file, 'r');
  let total = 0;
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) total += n;
  } finally {
    fs.closeSync(fd);
  }
  return total;
}
