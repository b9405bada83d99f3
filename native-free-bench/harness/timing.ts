// Elapsed time and rates from perf_hooks' monotonic clock.

import { performance } from 'node:perf_hooks';

export const MIB = 1024 * 1024;

export function nowMs(): number {
  return performance.now();
}

export function mibPerSecond(bytes: number, ms: number): number {
  return bytes / MIB / (ms / 1000);
}

/** Runs `body` and returns how long it took in milliseconds. */
export async function timed(body: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await body();
  return performance.now() - t0;
}
