// Server logs: one line per event with a level; `--log-format json` for machines.
//   text: 2026-11-26T00:40:00.000Z info  nbd: client 127.0.0.1:5000 connected export=vol0
//   json: {"ts":"...","level":"info","component":"nbd","msg":"client connected","export":"vol0"}

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

export function createLogger(component: string, opts: LogOptions = {}): Logger {
  const format = opts.format ?? 'text';
  const min = RANK[opts.level ?? 'info'];
  const stream = opts.stream ?? process.stderr;
  const emit = (level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void => {
    if (RANK[level] < min) return;
    const ts = new Date().toISOString();
    if (format === 'json') {
      stream.write(JSON.stringify({ ts, level, component, msg, ...fields }) + '\n');
    } else {
      const extra = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
      stream.write(`${ts} ${level.padEnd(5)} ${component}: ${msg}${extra ? ' ' + extra : ''}\n`);
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
