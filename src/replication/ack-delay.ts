// When the data mover flushes to acknowledge: the waits before a group commit. A sync
// primary's host writes wait for RECEIVED, so an UPDATE that arrives ends the wait at once; an
// async primary waits for nothing, so its updates are committed in larger groups.

import type { Timers } from '../io/timers';

/** What the waits look at, and how a stored UPDATE ends them early. */
export interface AckState {
  /** UPDATE payload bytes stored in this session, and how many of them a flush covered. */
  storedBytes: number;
  durableBytes: number;
  /** When the last UPDATE was stored (timers.nowMs()). */
  lastUpdateMs: number;
  /** Ends the wait in progress (set while one runs). */
  wakeAck: (() => void) | null;
}

/** Async primaries wait for no RECEIVED, so the data mover commits when it pays: once
 * ASYNC_ACK_BYTES arrived since the last commit, once no UPDATE came for ASYNC_QUIET_MS (the
 * host paused, and its APPLIED should not lag; a loaded host flushing every few ms pauses for
 * less, and a 10 ms rule committed once per host flush on a busy machine), and at the latest
 * ASYNC_ACK_DELAY_MS after the first thing to acknowledge. Each commit then carries more:
 * fewer fsyncs, and directory and NVRAM parity pages written once for many updates. With a
 * commit every 50 ms, 4 KiB random writes cost ~1.7 MiB of NVRAM pages per ~1 MiB of updates;
 * the secondary wrote 53 MiB for 16 MiB of updates, now 23 MiB (quick bench, async). Updates
 * that a COMMIT applies before the next commit never reach the NVRAM pending table at all. */
export const ASYNC_ACK_DELAY_MS = 500;
export const ASYNC_ACK_BYTES = 16 * 1024 * 1024;
export const ASYNC_QUIET_MS = 100;

/** Waits `ms` before a flush, or less: an UPDATE that arrives ends the wait (sync). */
export function ackDelay(timers: Timers, s: AckState, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const cancel = timers.after(ms, () => {
      s.wakeAck = null;
      resolve();
    });
    s.wakeAck = () => {
      cancel();
      s.wakeAck = null;
      resolve();
    };
  });
}

/** Before a flush for an async primary: until ASYNC_ACK_BYTES arrived (store ends the wait),
 * the UPDATEs paused for ASYNC_QUIET_MS, or ASYNC_ACK_DELAY_MS passed. UPDATEs only note
 * their time; the timer looks at it when it fires. */
export function asyncAckDelay(timers: Timers, s: AckState): Promise<void> {
  const beganMs = timers.nowMs();
  return new Promise<void>((resolve) => {
    let cancel = (): void => undefined;
    const done = (): void => {
      cancel();
      s.wakeAck = null;
      resolve();
    };
    const check = (): void => {
      const now = timers.nowMs();
      const quietMs = now - s.lastUpdateMs;
      const waitedMs = now - beganMs;
      if (s.storedBytes - s.durableBytes >= ASYNC_ACK_BYTES || quietMs >= ASYNC_QUIET_MS || waitedMs >= ASYNC_ACK_DELAY_MS) return done();
      cancel = timers.after(Math.min(ASYNC_QUIET_MS - quietMs, ASYNC_ACK_DELAY_MS - waitedMs), check);
    };
    s.wakeAck = done;
    check();
  });
}
