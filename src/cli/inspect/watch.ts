// `lsa inspect --watch`: the same view again every second, from a read-only look at the
// array (it is normally running in `lsa serve`). On a terminal the screen is cleared and
// redrawn until Ctrl-C; into a pipe or file each refresh is appended after a separator line
// (one JSON document per line with --json), and --count N stops after N refreshes.

import { sleepMs, systemClock, type Clock } from '../../io/clock';

export const WATCH_INTERVAL_MS = 1000;
const CLEAR_SCREEN = '\x1b[H\x1b[2J';

export interface WatchSettings {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** Stop after this many refreshes (unbounded when undefined: until Ctrl-C). */
  count?: number;
  json: boolean;
  intervalMs?: number;
  clock?: Clock;
  /** Aborts the loop (Ctrl-C); by default SIGINT does. */
  signal?: AbortSignal;
}

/** Renders and prints until stopped. The first refresh's error ends the watch (a bad
 * argument, no array); later ones are shown and the watch goes on (the array may be busy
 * being rewritten under us, or restarting). */
export async function watchView(render: () => Promise<string>, s: WatchSettings): Promise<number> {
  const tty = (s.out as NodeJS.WriteStream).isTTY === true && !s.json;
  const clock = s.clock ?? systemClock;
  const abort = new AbortController();
  const onSigint = (): void => abort.abort();
  // the reader went away (lsa inspect --watch | head): stop quietly, as a pipe would
  const onOutError = (): void => abort.abort();
  if (!s.signal) process.once('SIGINT', onSigint);
  s.signal?.addEventListener('abort', onSigint, { once: true });
  s.out.on('error', onOutError);
  try {
    for (let i = 0; s.count === undefined || i < s.count; i++) {
      if (abort.signal.aborted) break;
      let text: string;
      try {
        text = await render();
      } catch (err) {
        if (i === 0) throw err;
        text = `refresh failed: ${(err as Error).message}\n`;
        if (!tty) {
          s.err.write(`lsa inspect: ${text}`);
          text = '';
        }
      }
      const stamp = new Date(clock.nowMs()).toISOString();
      if (tty) s.out.write(`${CLEAR_SCREEN}lsa inspect --watch: every ${(s.intervalMs ?? WATCH_INTERVAL_MS) / 1000} s, Ctrl-C to stop  ${stamp}\n\n${text}`);
      else if (s.json) s.out.write(text);
      else s.out.write(`${i > 0 ? '\n' : ''}---- refresh ${i + 1} at ${stamp} ----\n${text}`);
      if (s.count !== undefined && i + 1 >= s.count) break;
      await sleepMs(s.intervalMs ?? WATCH_INTERVAL_MS, abort.signal);
    }
  } finally {
    process.off('SIGINT', onSigint);
    s.out.off('error', onOutError);
  }
  return 0;
}
