// Durations on the command line: "500ms", "30s", "2m", "1h", also "1.5s". A bare number is
// refused: seconds or milliseconds would be a guess.

import { InvalidArgumentError } from '../errors';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDurationMs(text: string, what = 'duration'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/i.exec(text);
  if (!m) throw new InvalidArgumentError(`${what}: cannot read "${text}" as a duration; write it like 500ms, 30s or 2m`, { text });
  const ms = Math.round(Number(m[1]) * UNIT_MS[m[2].toLowerCase()]);
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new InvalidArgumentError(`${what}: "${text}" must be more than zero`, { text });
  return ms;
}
