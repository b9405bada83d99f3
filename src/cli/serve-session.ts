// What `lsa serve` and `lsa up` share: the --nbd address, the logger options, and running an
// NBD server over an open engine until SIGINT/SIGTERM, then shutting down cleanly (stop
// accepting, finish in-flight requests, flush, close the array). A second signal during the
// shutdown exits at once; the next open recovers as after a crash.

import { InvalidArgumentError } from '../errors';
import type { LsaEngine } from '../lsa/engine';
import { GC_POLICIES, parseGcPolicy, type GcPolicyName } from '../lsa/gc-policy';
import { DEFAULT_NBD_HOST, DEFAULT_NBD_PORT, NbdServer } from '../nbd/server';
import type { ExtraExports } from '../nbd/exports';
import { formatSize } from '../util/size';
import { createLogger, type Logger, type LogLevel } from '../util/log';
import { optStr, type CommandContext, type OptionSpec } from './command';

export const NBD_OPTION: OptionSpec = {
  type: 'string',
  default: `${DEFAULT_NBD_HOST}:${DEFAULT_NBD_PORT}`,
  description: 'address to listen on: HOST:PORT, [IPv6]:PORT or PORT (loopback unless you name another host; port 0 picks a free one)',
  valueName: 'ADDR',
};
export const LOG_FORMAT_OPTION: OptionSpec = { type: 'string', default: 'text', description: 'log lines on stderr as text or json', valueName: 'text|json' };
export const GC_POLICY_OPTION: OptionSpec = { type: 'string', description: `collector policy while serving: ${GC_POLICIES.join(', ')} (default: the array's)`, valueName: 'P' };
export const LOG_LEVEL_OPTION: OptionSpec = { type: 'string', default: 'info', description: 'least important log level shown: debug, info, warn, error', valueName: 'LEVEL' };

export interface ListenAddress {
  host: string;
  port: number;
}

export function parseListenAddress(text: string): ListenAddress {
  const bad = (): never => {
    throw new InvalidArgumentError(`--nbd: cannot read "${text}" as an address; write it like 127.0.0.1:10809, [::1]:10809 or 10809`);
  };
  let host = DEFAULT_NBD_HOST;
  let portText: string;
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(text);
  if (v6) {
    host = v6[1];
    portText = v6[2] ?? String(DEFAULT_NBD_PORT);
  } else if (/^\d+$/.test(text)) {
    portText = text;
  } else {
    const i = text.lastIndexOf(':');
    if (i < 0) {
      host = text;
      portText = String(DEFAULT_NBD_PORT);
    } else {
      host = text.slice(0, i) || DEFAULT_NBD_HOST;
      portText = text.slice(i + 1);
    }
    if (host.includes(':') || !/^[A-Za-z0-9.-]+$/.test(host)) bad();
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) bad();
  return { host, port };
}

export function gcPolicyFrom(ctx: CommandContext): GcPolicyName | undefined {
  const text = optStr(ctx, 'gc-policy');
  return text === undefined ? undefined : parseGcPolicy(text);
}

export function loggerFrom(ctx: CommandContext, component: string): Logger {
  const format = optStr(ctx, 'log-format') ?? 'text';
  if (format !== 'text' && format !== 'json') throw new InvalidArgumentError(`--log-format must be text or json; got "${format}"`);
  const level = optStr(ctx, 'log-level') ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new InvalidArgumentError(`--log-level must be debug, info, warn or error; got "${level}"`);
  return createLogger(component, { format, level: level as LogLevel, stream: ctx.err });
}

/** nbd://host:port/name, with brackets around an IPv6 host. */
export function nbdUri(host: string, port: number, exportName: string): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return `nbd://${h}:${port}/${encodeURIComponent(exportName)}`;
}

export interface ServeSettings {
  address: ListenAddress;
  readOnly: boolean;
  log: Logger;
  /** Called once the server listens (to print how to connect). */
  onListening?: (server: NbdServer, host: string, port: number) => void;
  /** Started after the NBD server listens (remote copy, control API); stopped, in order,
   * before the array closes. */
  startServices?: () => Promise<{ name: string; stop(): Promise<void> }[]>;
  extraExports?: ExtraExports | null;
}

/** Serves until a signal, then shuts down and closes the engine. Returns the exit code. */
export async function serveUntilSignal(engine: LsaEngine, s: ServeSettings): Promise<number> {
  const server = new NbdServer(engine, { host: s.address.host, port: s.address.port, readOnly: s.readOnly, log: s.log.child('nbd'), extra: s.extraExports ?? null });
  let services: { name: string; stop(): Promise<void> }[] = [];
  // catch the signals before anyone can know our port
  let onSignal: (sig: NodeJS.Signals) => void = () => undefined;
  const signalled = new Promise<NodeJS.Signals>((resolve) => (onSignal = resolve));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const bound = await server.listen();
    if (s.startServices) services = await s.startServices();
    s.onListening?.(server, bound.address, bound.port);
  } catch (err) {
    for (const svc of services) await svc.stop().catch(() => undefined);
    await server.shutdown().catch(() => undefined);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await engine.close();
    throw err;
  }
  const signal = await signalled;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  s.log.info(`${signal}: stopping`);
  const force = (again: NodeJS.Signals): void => {
    s.log.warn(`${again} again: exiting without a clean shutdown; the next start recovers from the last flush`);
    process.exit(130);
  };
  process.once('SIGINT', force);
  process.once('SIGTERM', force);
  try {
    await server.shutdown();
    for (const svc of services) {
      await svc.stop().catch((err: unknown) => s.log.warn(`stopping ${svc.name} failed`, { error: (err as Error).message }));
    }
    await engine.close();
    s.log.info('array closed');
    return 0;
  } finally {
    process.off('SIGINT', force);
    process.off('SIGTERM', force);
  }
}

export function describeExports(server: NbdServer): string[] {
  return server.exports.list().map((e) => `${e.name} (${formatSize(e.volume.sizeBytes)})`);
}
