// A primary and a secondary `lsa serve` as child processes on loopback, with the in-test Proxy
// between them (cut, block, stall, corrupt, replay), the control API polled for the pair
// state, and `lsa read` to compare the volumes once both processes are stopped.
//
// Ports are picked free once and kept, so a restarted process comes back on the same address
// and the other side reconnects by itself. Every child is killed by killAll() (call it from
// after()/afterEach(), so a failing test leaves nothing running).

import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { KEY_FILE } from '../../src/io/key-file';
import type { Geometry } from '../../src/array/geometry';
import { controlToken } from './control-http';
import { Proxy } from './replication-rig';
import { MAIN_JS, makeArray, run, runAsync, ServerProcess } from './serve-process';

export const PAIR_GEOMETRY: Partial<Geometry> = { disks: 4, columnBytes: 64 * 1024, diskBytes: 16 * 1024 * 1024, trackBytes: 4096 };
export const PAIR_VOLUME_BYTES = 8 * 1024 * 1024;
/** Short in tests so that a stuck secondary is noticed quickly. */
export const PAIR_LINK_TIMEOUT_MS = 2000;

export interface PairStatusRow {
  volume: string;
  state: string;
  lagSeq: number;
  outOfSyncTracks: number;
  lastAppliedSeq: number;
  bytesShipped: number;
  /** The async lag bound was hit: updates are not shipped, a resync follows. */
  tracking?: boolean;
  error: string | null;
}

export interface PairStatusReply {
  connected: boolean;
  volumes: PairStatusRow[];
}

/** A loopback port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function writeKey(dir: string, key: Buffer): void {
  fs.writeFileSync(path.join(dir, KEY_FILE), key.toString('hex') + '\n', { mode: 0o600 });
}

function httpGetJson(port: number, urlPath: string, token: string, timeoutMs = 5000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, timeout: timeoutMs, headers: { authorization: `Bearer ${token}` } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(parts).toString('utf8')));
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${urlPath} timed out`)));
    req.on('error', reject);
  });
}

export interface PairOptions {
  mode: 'sync' | 'async';
  /** Volumes of the primary (name, bytes); default one vol0 of PAIR_VOLUME_BYTES. */
  volumes?: [string, number][];
  /** Volumes made on the secondary beforehand (default none: the pair creates them). */
  secondaryVolumes?: [string, number][];
  /** A different key on the secondary (the wrong-key test). */
  secondaryKey?: Buffer;
  lagMax?: string;
  /** Default PAIR_LINK_TIMEOUT_MS. */
  linkTimeoutMs?: number;
  /** --replica-tls on both (default on); a test of the frames themselves needs them plain. */
  tls?: 'on' | 'off';
}

export class ProcessPair {
  primary: ServerProcess | null = null;
  secondary: ServerProcess | null = null;
  readonly pDir: string;
  readonly sDir: string;
  readonly key = randomBytes(32);
  /** Output of processes that already exited (for failure messages). */
  private pastLogs: string[] = [];

  private constructor(readonly root: string, readonly opts: PairOptions, readonly proxy: Proxy, readonly replicaPort: number, readonly controlPort: number) {
    this.pDir = path.join(root, 'p');
    this.sDir = path.join(root, 's');
  }

  static async create(root: string, opts: PairOptions): Promise<ProcessPair> {
    const replicaPort = await freePort();
    const controlPort = await freePort();
    const proxy = new Proxy(replicaPort);
    await proxy.listen();
    const pair = new ProcessPair(root, opts, proxy, replicaPort, controlPort);
    await makeArray(pair.pDir, opts.volumes ?? [['vol0', PAIR_VOLUME_BYTES]], PAIR_GEOMETRY);
    await pair.makeSecondaryArray(opts.secondaryVolumes ?? []);
    writeKey(pair.pDir, pair.key);
    writeKey(pair.sDir, opts.secondaryKey ?? pair.key);
    return pair;
  }

  /** (Re)creates the secondary's array (the operator's fix after a refused volume). */
  async makeSecondaryArray(volumes: [string, number][]): Promise<void> {
    fs.rmSync(this.sDir, { recursive: true, force: true });
    await makeArray(this.sDir, volumes, PAIR_GEOMETRY);
    writeKey(this.sDir, this.key);
  }

  async startSecondary(): Promise<ServerProcess> {
    const s = await ServerProcess.start(['--dir', this.sDir, '--replica-listen', `127.0.0.1:${this.replicaPort}`, '--replica-tls', this.opts.tls ?? 'on']);
    this.secondary = s;
    await s.waitFor(/replica link listening/, 10_000);
    return s;
  }

  async startPrimary(): Promise<ServerProcess> {
    const p = await ServerProcess.start([
      '--dir', this.pDir, '--secondary', `127.0.0.1:${this.proxy.port}`, '--control', `127.0.0.1:${this.controlPort}`,
      '--mode', this.opts.mode, '--replica-tls', this.opts.tls ?? 'on', '--link-timeout', String(this.opts.linkTimeoutMs ?? PAIR_LINK_TIMEOUT_MS), '--lag-max', this.opts.lagMax ?? '64MiB',
    ]);
    this.primary = p;
    await p.waitFor(/control API listening/, 10_000);
    return p;
  }

  async start(): Promise<void> {
    await this.startSecondary();
    await this.startPrimary();
  }

  async status(): Promise<PairStatusReply> {
    return (await httpGetJson(this.controlPort, '/status', controlToken(this.pDir))) as PairStatusReply;
  }

  /** Polls GET /status until every volume is duplex with nothing left to apply. */
  async waitDuplex(timeoutMs = 30_000, volumes?: string[]): Promise<PairStatusReply> {
    const deadline = Date.now() + timeoutMs;
    let last: PairStatusReply | null = null;
    for (;;) {
      try {
        last = await this.status();
        const rows = last.volumes.filter((v) => !volumes || volumes.includes(v.volume));
        if (last.connected && rows.length > 0 && rows.every((v) => v.state === 'duplex' && v.lagSeq === 0)) return last;
      } catch {
        // the primary is (re)starting
      }
      if (Date.now() > deadline) throw new Error(`the pair did not return to duplex within ${timeoutMs} ms; last status ${JSON.stringify(last)}\n${this.logs()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async waitState(what: string, cond: (s: PairStatusReply) => boolean, timeoutMs = 20_000): Promise<PairStatusReply> {
    const deadline = Date.now() + timeoutMs;
    let last: PairStatusReply | null = null;
    for (;;) {
      try {
        last = await this.status();
        if (cond(last)) return last;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last status ${JSON.stringify(last)}\n${this.logs()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGKILL (a crash) or SIGTERM (clean shutdown) of one side. */
  async stopPrimary(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
    const p = this.primary;
    if (!p) return 'not running';
    this.primary = null;
    const code = await p.stop(signal);
    this.pastLogs.push(`--- primary (${signal}) ---\n${p.log}`);
    return code;
  }

  async stopSecondary(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
    const s = this.secondary;
    if (!s) return 'not running';
    this.secondary = null;
    const code = await s.stop(signal);
    this.pastLogs.push(`--- secondary (${signal}) ---\n${s.log}`);
    return code;
  }

  /** Clean shutdown of both (the primary first: it hands its last commit to the secondary). */
  async stopBoth(): Promise<void> {
    const p = await this.stopPrimary('SIGTERM');
    const s = await this.stopSecondary('SIGTERM');
    if (p !== 0 || s !== 0) throw new Error(`clean shutdown failed: primary exit ${p}, secondary exit ${s}\n${this.logs()}`);
  }

  /** For after(): kills whatever still runs, closes the proxy. Never throws. */
  async killAll(): Promise<void> {
    for (const c of [this.primary, this.secondary]) {
      if (c) await c.stop('SIGKILL', 5000).catch(() => undefined);
    }
    this.primary = null;
    this.secondary = null;
    await this.proxy.close().catch(() => undefined);
  }

  /** A volume's bytes read by `lsa read` from a stopped array. */
  async readVolume(dir: string, name = 'vol0', bytes = PAIR_VOLUME_BYTES): Promise<Buffer> {
    const out = path.join(this.root, `read-${path.basename(dir)}-${name}.bin`);
    const r = await runAsync(process.execPath, [MAIN_JS, 'read', '--dir', dir, '--volume', name, '--offset', '0', '--length', String(bytes), '--out', out], 60_000);
    if (r.code !== 0) throw new Error(`lsa read --dir ${dir} failed (${r.code}): ${r.stderr}`);
    const data = fs.readFileSync(out);
    fs.rmSync(out);
    return data;
  }

  /** `lsa status --json` against the running primary. */
  statusCli(): PairStatusRow[] {
    const r = run(process.execPath, [MAIN_JS, 'status', '--control', `127.0.0.1:${this.controlPort}`, '--dir', this.pDir, '--json'], { timeoutMs: 20_000 });
    return JSON.parse(r.stdout) as PairStatusRow[];
  }

  logs(): string {
    const now = [this.primary ? `--- primary (running) ---\n${this.primary.log}` : '', this.secondary ? `--- secondary (running) ---\n${this.secondary.log}` : ''];
    return [...this.pastLogs, ...now].filter(Boolean).map((l) => l.slice(-6000)).join('\n');
  }

  /** Everything both sides ever logged (past and running processes). */
  allLogs(side: 'primary' | 'secondary'): string {
    const past = this.pastLogs.filter((l) => l.startsWith(`--- ${side}`)).join('\n');
    const c = side === 'primary' ? this.primary : this.secondary;
    return `${past}\n${c?.log ?? ''}`;
  }
}
