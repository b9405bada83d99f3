// A primary and a secondary `lsa serve` as child processes on free loopback ports, for the
// snapshot process tests: the secondary listens for its primary and exports snapshots over
// NBD (VOLUME@NAME); the primary mirrors to it and opens its control API. Plus running `lsa`
// commands and tools without blocking the event loop, and the pair status over HTTP.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { Geometry } from '../../src/array/geometry';
import { ensureKeyFile, KEY_FILE } from '../../src/io/key-file';
import { controlToken } from './control-http';
import { MAIN_JS, makeArray, ServerProcess } from './serve-process';

export const PAIR_GEOMETRY: Partial<Geometry> = { disks: 4, columnBytes: 256 * 1024, diskBytes: 64 * 1024 * 1024, trackBytes: 4096 };

export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<net.Server>((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  })));
  const ports = servers.map((srv) => (srv.address() as net.AddressInfo).port);
  await Promise.all(servers.map((srv) => new Promise((r) => srv.close(r))));
  return ports;
}

export interface Exec {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end (killed after timeoutMs), without blocking the event loop. */
export function exec(cmd: string, args: string[], timeoutMs = 120_000): Promise<Exec> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** `lsa ARGS...` in a child process. */
export function lsa(args: string[], timeoutMs = 120_000): Promise<Exec> {
  return exec(process.execPath, [MAIN_JS, ...args], timeoutMs);
}

export class Pair {
  primary: ServerProcess | null = null;
  secondary: ServerProcess | null = null;
  readonly primaryDir: string;
  readonly secondaryDir: string;

  private constructor(root: string, readonly replicaPort: number, readonly controlPort: number, readonly mode: 'sync' | 'async') {
    this.primaryDir = path.join(root, 'primary');
    this.secondaryDir = path.join(root, 'secondary');
  }

  /** Makes both arrays (volumes on the primary only; the pair creates them on the secondary)
   * with one key, and starts the secondary, then the primary. */
  static async start(root: string, volumes: [string, number][], mode: 'sync' | 'async' = 'sync', geometry: Partial<Geometry> = PAIR_GEOMETRY, extra: { primary?: string[] } = {}): Promise<Pair> {
    const [replicaPort, controlPort] = await freePorts(2);
    const pair = new Pair(root, replicaPort, controlPort, mode);
    await makeArray(pair.primaryDir, volumes, geometry);
    await makeArray(pair.secondaryDir, [], geometry);
    ensureKeyFile(path.join(pair.primaryDir, KEY_FILE));
    fs.copyFileSync(path.join(pair.primaryDir, KEY_FILE), path.join(pair.secondaryDir, KEY_FILE));
    await pair.startSecondary();
    pair.primary = await ServerProcess.start(['--dir', pair.primaryDir, '--secondary', `127.0.0.1:${replicaPort}`, '--control', `127.0.0.1:${controlPort}`, '--mode', mode, ...(extra.primary ?? [])]);
    await pair.primary.waitFor(/control API listening/, 30_000); // it starts after the NBD server
    return pair;
  }

  async startSecondary(): Promise<ServerProcess> {
    this.secondary = await ServerProcess.start(['--dir', this.secondaryDir, '--replica-listen', `127.0.0.1:${this.replicaPort}`]);
    return this.secondary;
  }

  get control(): string {
    return `127.0.0.1:${this.controlPort}`;
  }

  /** How `lsa status` / `lsa snapshot create` reach this primary: its address and its folder
   * (where they read control.token). */
  get controlArgs(): string[] {
    return ['--control', this.control, '--dir', this.primaryDir];
  }

  /** nbd:// URI of a primary volume, or of a snapshot export VOLUME@NAME on the secondary. */
  primaryUri(volume: string): string {
    return `nbd://127.0.0.1:${this.primary!.port}/${volume}`;
  }

  snapshotUri(volume: string, name: string): string {
    return `nbd://127.0.0.1:${this.secondary!.port}/${volume}@${name}`;
  }

  async status(): Promise<{ connected: boolean; volumes: { volume: string; state: string; lagSeq: number }[] }> {
    const res = await fetch(`http://${this.control}/status`, { headers: { authorization: `Bearer ${controlToken(this.primaryDir)}` } });
    return (await res.json()) as { connected: boolean; volumes: { volume: string; state: string; lagSeq: number }[] };
  }

  /** Until every pair is duplex with nothing shipped and unapplied. */
  async waitDuplex(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.status();
      if (s.connected && s.volumes.every((v) => v.state === 'duplex' && v.lagSeq === 0)) return;
      if (Date.now() > deadline) throw new Error(`the pair is not duplex after ${timeoutMs} ms: ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Kills both servers (for after() hooks: never throws). */
  async kill(): Promise<void> {
    for (const s of [this.primary, this.secondary]) {
      if (!s) continue;
      try {
        process.kill(s.child.pid!, 'SIGCONT'); // a test may have stopped it
      } catch {
        // gone already
      }
      await s.stop('SIGKILL', 10_000).catch(() => undefined);
    }
  }
}
