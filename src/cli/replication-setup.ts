// The remote-copy side of `lsa serve`: a secondary listens for its primary (--replica-listen),
// a primary connects to its secondary (--secondary) and opens the control API (--control).

import { InvalidArgumentError, assert } from '../errors';
import { DEFAULT_CONTROL_PORT } from '../control/http-api';
import { primaryControlApi } from '../control/primary-control';
import { controlTokenPath, ensureControlToken, readControlToken } from '../io/control-token';
import { KEY_FILE, readKeyFile } from '../io/key-file';
import { joinPath } from '../io/files';
import type { LsaEngine } from '../lsa/engine';
import { LINK_TIMEOUT_MS, PrimaryReplicator, type ReplicationMode } from '../replication/primary';
import { SecondaryServer } from '../replication/secondary';
import { SNAPSHOTS_MAX_DEFAULT, SnapshotStore } from '../snapshot/snapshot-store';
import { readSnapshotRange } from '../snapshot/snapshot-range';
import { parseSize } from '../util/size';
import type { Logger } from '../util/log';
import { optStr, type CommandContext, type OptionSpec } from './command';
import { parseListenAddress, type ListenAddress } from './serve-session';

export const DEFAULT_REPLICA_PORT = 10811;
export const DEFAULT_SECONDARY_NBD_PORT = 10812;

export const REPLICATION_OPTIONS: Record<string, OptionSpec> = {
  'replica-listen': { type: 'string', description: 'be a secondary: listen for the primary on HOST:PORT (e.g. 127.0.0.1:10811)', valueName: 'ADDR' },
  secondary: { type: 'string', description: 'be a primary: mirror every volume to the secondary at HOST:PORT', valueName: 'ADDR' },
  mode: { type: 'string', default: 'sync', description: 'remote copy mode: sync (a write completes once the secondary has it) or async', valueName: 'sync|async' },
  'lag-max': { type: 'string', default: '64MiB', description: 'async: shipped-but-unacknowledged bytes before falling back to tracking out-of-sync tracks', valueName: 'SIZE' },
  'link-timeout': { type: 'string', default: String(LINK_TIMEOUT_MS), description: 'primary: milliseconds of silence from the secondary before the link is dropped (sync writes never wait longer)', valueName: 'MS' },
  'key-file': { type: 'string', description: 'pre-shared key file (default: DIR/replication.key; both ends must hold the same key)', valueName: 'FILE' },
  'replica-tls': { type: 'string', default: 'on', description: 'TLS-PSK on the replication link, keyed from the replication key: on, or off only for measurements (both ends must agree)', valueName: 'on|off' },
  control: { type: 'string', description: `control API address (default 127.0.0.1:${DEFAULT_CONTROL_PORT} on a primary); every request needs the control token`, valueName: 'ADDR' },
  'token-file': { type: 'string', description: 'control token file (default: DIR/control.token, created with mode 0600 if missing)', valueName: 'FILE' },
  'snapshots-max': { type: 'string', default: String(SNAPSHOTS_MAX_DEFAULT), description: 'snapshots kept per volume; past it a snapshot is refused (429) until lsa snapshot delete removes one', valueName: 'N' },
};

export interface Service {
  name: string;
  stop(): Promise<void>;
}

function address(text: string, defaultPort: number, what: string): ListenAddress {
  try {
    return parseListenAddress(/^\d+$/.test(text) || text.includes(':') ? text : `${text}:${defaultPort}`);
  } catch {
    throw new InvalidArgumentError(`--${what}: cannot read "${text}" as HOST:PORT`);
  }
}

/** --replica-tls: on (the default) or off. */
function replicaTls(ctx: CommandContext): boolean {
  const text = optStr(ctx, 'replica-tls') ?? 'on';
  if (text !== 'on' && text !== 'off') throw new InvalidArgumentError(`--replica-tls must be on or off; got "${text}"`);
  return text === 'on';
}

export function isSecondary(ctx: CommandContext): boolean {
  return optStr(ctx, 'replica-listen') !== undefined;
}

export interface ReplicationPlan {
  /** A secondary's snapshots (loaded with the array, see snapshotPins: they are NBD exports too). */
  snapshots: SnapshotStore | null;
  /** Starts the link and the control API; returns what to stop on shutdown, in order. */
  start(): Promise<Service[]>;
}

export function snapshotsMaxOf(ctx: CommandContext): number {
  const text = optStr(ctx, 'snapshots-max') ?? String(SNAPSHOTS_MAX_DEFAULT);
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 100_000) throw new InvalidArgumentError(`--snapshots-max must be a whole number from 1 to 100000; got "${text}"`);
  return n;
}

/** The control token of a server with a control API: --token-file, or DIR/control.token,
 * created on first use (an array made before tokens existed). */
function controlToken(ctx: CommandContext, dir: string, log: Logger): string {
  const given = optStr(ctx, 'token-file');
  const file = given ?? controlTokenPath(dir);
  if (given === undefined && ensureControlToken(file)) {
    log.info('created the control token (mode 0600); lsa status and lsa snapshot read it with --dir', { path: file });
  }
  return readControlToken(file);
}

/** Reads and checks the options now (bad input fails before anything listens). */
export async function planReplication(ctx: CommandContext, engine: LsaEngine, dir: string, log: Logger): Promise<ReplicationPlan> {
  const listen = optStr(ctx, 'replica-listen');
  const secondary = optStr(ctx, 'secondary');
  if (listen && secondary) throw new InvalidArgumentError('an array is either a secondary (--replica-listen) or a primary (--secondary), not both');
  const keyPath = optStr(ctx, 'key-file') ?? joinPath(dir, KEY_FILE);
  if (listen || secondary) {
    readKeyFile(keyPath); // a missing or bad key is reported before serving
    if (!replicaTls(ctx)) log.warn('--replica-tls off: the replication link carries the volumes\' data in the clear, and a CRC is all that guards it (for measurements only)');
  }
  snapshotsMaxOf(ctx); // a bad --snapshots-max is reported before serving
  // a bad token file (mode, link, length) is reported before serving too
  const token = secondary || optStr(ctx, 'control') ? controlToken(ctx, dir, log) : null;
  // a secondary's snapshots were loaded with the array (snapshotPins)
  const snapshots = listen ? SnapshotStore.of(engine) : null;
  return { snapshots, start: async () => (await startReplication(ctx, engine, dir, log, token, snapshots)).services };
}

/** Starts what the options ask for; returns the services to stop on shutdown (in order). */
export async function startReplication(ctx: CommandContext, engine: LsaEngine, dir: string, log: Logger, token: string | null, openedSnapshots: SnapshotStore | null = null): Promise<{ services: Service[]; snapshots: SnapshotStore | null; replicator: PrimaryReplicator | null }> {
  const listen = optStr(ctx, 'replica-listen');
  const secondary = optStr(ctx, 'secondary');
  const control = optStr(ctx, 'control');
  if (listen && secondary) throw new InvalidArgumentError('an array is either a secondary (--replica-listen) or a primary (--secondary), not both');
  const snapshotsMax = snapshotsMaxOf(ctx);
  const mode = (optStr(ctx, 'mode') ?? 'sync') as ReplicationMode;
  if (mode !== 'sync' && mode !== 'async') throw new InvalidArgumentError(`--mode must be sync or async; got "${mode}"`);
  const lagMaxBytes = parseSize(optStr(ctx, 'lag-max') ?? '64MiB', '--lag-max');
  const linkTimeoutText = optStr(ctx, 'link-timeout') ?? String(LINK_TIMEOUT_MS);
  const linkTimeoutMs = Number(linkTimeoutText);
  if (!/^\d+$/.test(linkTimeoutText) || linkTimeoutMs < 100) throw new InvalidArgumentError(`--link-timeout: give milliseconds, at least 100; got "${linkTimeoutText}"`);
  const keyPath = optStr(ctx, 'key-file') ?? joinPath(dir, KEY_FILE);
  const tls = replicaTls(ctx);
  const services: Service[] = [];
  let snapshots: SnapshotStore | null = null;
  let replicator: PrimaryReplicator | null = null;
  if (listen) {
    const key = readKeyFile(keyPath);
    snapshots = openedSnapshots ?? SnapshotStore.of(engine);
    const a = address(listen, DEFAULT_REPLICA_PORT, 'replica-listen');
    const server = new SecondaryServer(engine, { host: a.host, port: a.port, key, tls, log: log.child('replica'), takeSnapshot: (req) => snapshots!.take(req), readSnapshot: (req) => readSnapshotRange(snapshots!, req) });
    await server.listen();
    services.push({ name: 'replica link', stop: () => server.close() });
  }
  if (secondary) {
    const key = readKeyFile(keyPath);
    const a = address(secondary, DEFAULT_REPLICA_PORT, 'secondary');
    replicator = new PrimaryReplicator(engine, { host: a.host, port: a.port, key, tls, mode, lagMaxBytes, linkTimeoutMs, log: log.child('replica') });
    replicator.start();
    services.push({ name: 'remote copy', stop: () => replicator!.stop() });
  }
  if (secondary || control) {
    assert(token !== null, 'planReplication read the control token');
    const a = address(control ?? `127.0.0.1:${DEFAULT_CONTROL_PORT}`, DEFAULT_CONTROL_PORT, 'control');
    const api = primaryControlApi({ host: a.host, port: a.port, token, engine, replicator, log: log.child('control'), role: listen ? 'secondary' : 'primary', snapshotsMax });
    await api.listen();
    services.unshift({ name: 'control API', stop: () => api.close() });
  }
  return { services, snapshots, replicator };
}
