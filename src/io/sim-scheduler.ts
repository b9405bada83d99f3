// Simulated time: a clock and its timers that run from a queue of events instead of the wall
// clock. Events run in time order (ties in the order they were scheduled), one per turn of the
// real event loop, so what an event starts (promises, the simulated disks, the collector's
// immediates) settles before the next one runs. Nothing real waits: a ten-second link timeout
// passes at once. Every event goes into a running hash (the trace), so two runs from one seed
// are compared by one line, and a failure prints the last events that led to it.

import { createHash, type Hash } from 'node:crypto';
import type { Cancel, Timers } from './timers';

/** Turns of the real event loop with nothing scheduled before a drive() is declared stuck. */
export const IDLE_TURNS_MAX = 1000;
/** Lines of the trace kept for a failure message. */
export const TRACE_TAIL_LINES = 80;
/** Where simulated time begins (a fixed instant: the trace must not depend on today). */
export const SIM_EPOCH_MS = Date.UTC(2024, 0, 1);

interface SimEvent {
  atMs: number;
  seq: number;
  label: string;
  fn: () => void;
  cancelled: boolean;
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
}

const realTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class SimScheduler implements Timers {
  private now = SIM_EPOCH_MS;
  private heap: SimEvent[] = [];
  private seq = 0;
  private hash: Hash = createHash('sha256');
  private tail: string[] = [];
  /** Events run so far. */
  eventsRun = 0;

  nowMs(): number {
    return this.now;
  }

  after(ms: number, fn: () => void): Cancel {
    return this.schedule(ms, 'timer', fn);
  }

  every(ms: number, fn: () => void): Cancel {
    let cancelNext: Cancel = () => undefined;
    let stopped = false;
    const tick = (): void => {
      if (stopped) return;
      cancelNext = this.schedule(ms, 'interval', tick);
      fn();
    };
    cancelNext = this.schedule(ms, 'interval', tick);
    return () => {
      stopped = true;
      cancelNext();
    };
  }

  /** Runs `fn` `ms` from now (at least 0); `label` names it in the trace. */
  schedule(ms: number, label: string, fn: () => void): Cancel {
    const ev: SimEvent = { atMs: this.now + Math.max(0, ms), seq: this.seq++, label, fn, cancelled: false };
    this.push(ev);
    return () => {
      ev.cancelled = true;
    };
  }

  /** Adds a line to the trace (at the current time). */
  trace(line: string): void {
    const text = `${(this.now - SIM_EPOCH_MS).toFixed(3)} ${line}`;
    this.hash.update(text + '\n');
    this.tail.push(text);
    if (this.tail.length > TRACE_TAIL_LINES) this.tail.shift();
  }

  /** A hash of every event so far: equal for two runs from the same seed. */
  get traceHash(): string {
    return this.hash.copy().digest('hex').slice(0, 16);
  }

  /** The last lines of the trace, for a failure message. */
  traceTail(): string {
    return this.tail.join('\n');
  }

  /** Milliseconds since the simulation began. */
  get elapsedMs(): number {
    return this.now - SIM_EPOCH_MS;
  }

  /** Runs events until `work` settles, and returns (or throws) what it did. Throws if nothing
   * is left to run while it is pending, or once `limitMs` of simulated time went by. */
  async drive<T>(work: Promise<T>, limitMs = 3_600_000): Promise<T> {
    let settled = false;
    work.then(() => (settled = true), () => (settled = true));
    await this.until('the awaited work', () => settled, limitMs);
    return work;
  }

  /** Runs events until `cond` holds (checked after each one). Throws, naming `what`, if
   * nothing is left to run first, or once `limitMs` of simulated time went by. */
  async until(what: string, cond: () => boolean, limitMs = 3_600_000): Promise<void> {
    const endMs = this.now + limitMs;
    let idle = 0;
    for (;;) {
      await realTurn();
      if (cond()) return;
      const ev = this.pop();
      if (!ev) {
        if (++idle > IDLE_TURNS_MAX) throw new Error(`simulation stuck: nothing is scheduled while waiting for ${what}\n${this.traceTail()}`);
        continue;
      }
      idle = 0;
      if (ev.atMs > endMs) {
        this.push(ev);
        throw new Error(`simulation: ${what} did not happen within ${limitMs} simulated ms\n${this.traceTail()}`);
      }
      this.run(ev);
    }
  }

  /** Runs every event due within `ms` from now, then moves the clock to that instant. */
  async runFor(ms: number): Promise<void> {
    const endMs = this.now + ms;
    for (;;) {
      await realTurn();
      const ev = this.pop();
      if (!ev) break;
      if (ev.atMs > endMs) {
        this.push(ev);
        break;
      }
      this.run(ev);
    }
    this.now = Math.max(this.now, endMs);
  }

  private run(ev: SimEvent): void {
    this.now = Math.max(this.now, ev.atMs);
    this.eventsRun++;
    if (ev.label !== 'timer' && ev.label !== 'interval') this.trace(ev.label);
    else this.trace(`${ev.label} #${ev.seq}`);
    ev.fn();
  }

  // ---- a binary heap of events; cancelled ones are skipped when they come up ----

  private pop(): SimEvent | null {
    while (this.heap.length > 0) {
      const top = this.heap[0];
      const last = this.heap.pop()!;
      if (this.heap.length > 0) {
        this.heap[0] = last;
        this.down(0);
      }
      if (!top.cancelled) return top;
    }
    return null;
  }

  private push(ev: SimEvent): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l], h[m])) m = l;
      if (r < h.length && before(h[r], h[m])) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}
