// Server logs: one line per event with a level; `--log-format json` for machines.
//   text: 2026-11-26T00:40:00.000Z info  nbd: client 127.0.0.1:5000 connected export=vol0
//   json: {"ts":"...","level":"info","component":"nbd","msg":"client connected","export":"vol0"}
//
// Control characters of the message and of values are escaped (\n, \u001b...): a value chosen
// by a client (an export name, a URL path) can neither start a log line of its own nor send
// escape sequences to the operator's terminal. (JSON.stringify escapes C0 itself; DEL, C1 and
// the Unicode line separators get the same \uXXXX escape, which keeps the line valid JSON.)

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

export interface LogOptions {
  format?: 'text' | 'json';
  level?: LogLevel;
  stream?: NodeJS.WritableStream;
}

/** C0 and C1 control characters and DEL (a terminal acts on them), plus the line and paragraph
 * separators some viewers break lines at. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `text` with every control character written as an escape (\n, \r, \t, \u001b, ...). */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function createLogger(component: string, opts: LogOptions = {}): Logger {
  const format = opts.format ?? 'text';
  const min = RANK[opts.level ?? 'info'];
  const stream = opts.stream ?? process.stderr;
  const emit = (level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void => {
    if (RANK[level] < min) return;
    const ts = new Date().toISOString();
    if (format === 'json') {
      stream.write(escapeControl(JSON.stringify({ ts, level, component, msg, ...fields })) + '\n');
    } else {
      const extra = Object.entries(fields).map(([k, v]) => `${escapeControl(k)}=${escapeControl(typeof v === 'string' ? v : String(JSON.stringify(v)))}`).join(' ');
      stream.write(`${ts} ${level.padEnd(5)} ${component}: ${escapeControl(msg)}${extra ? ' ' + extra : ''}\n`);
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (c) => createLogger(`${component}.${c}`, opts),
  };
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
