// Time for everything above src/io: the clock and the timeouts, injected like the disk files.
// The real timers wrap Date.now, setTimeout, setInterval and setImmediate; the simulated ones
// (sim-scheduler.ts) run from a seeded scheduler, so a whole pair replays from one seed.

import type { Clock } from './clock';

/** Cancels a timer; calling it again, or after the timer fired, does nothing. */
export type Cancel = () => void;

export interface Timers extends Clock {
  /** Runs `fn` once, `ms` from now. With 0: as soon as the work under way yields, after the
   * I/O events already due (a batch of sends leaves as one write). */
  after(ms: number, fn: () => void): Cancel;
  /** Runs `fn` every `ms` until cancelled. A periodic check never keeps the process alive by
   * itself (a watchdog of a link that was never stopped must not hang the exit). */
  every(ms: number, fn: () => void): Cancel;
}

export const realTimers: Timers = {
  nowMs: () => Date.now(),
  after(ms, fn) {
    if (ms <= 0) {
      const h = setImmediate(fn);
      return () => clearImmediate(h);
    }
    const h = setTimeout(fn, ms);
    return () => clearTimeout(h);
  },
  every(ms, fn) {
    const h = setInterval(fn, ms);
    h.unref();
    return () => clearInterval(h);
  },
};

/** Resolves `ms` from now on `timers`. */
export function sleep(timers: Timers, ms: number): Promise<void> {
  return new Promise<void>((resolve) => timers.after(ms, resolve));
}
