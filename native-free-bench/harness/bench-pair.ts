// A primary in this process (engine, remote copy in sync mode, control API on a free port) and
// its secondary as a real `lsa serve --replica-listen` child process over TCP loopback, for
// scenarios that measure the pair (snapshot). Real files and SQLite on both sides.

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Geometry } from '../../src/array/geometry';
import { ControlApi } from '../../src/control/http-api';
import { KEY_FILE, ensureKeyFile, readKeyFile } from '../../src/io/key-file';
import type { LsaEngine } from '../../src/lsa/engine';
import { createArray } from '../../src/lsa/open-array';
import { createVolume } from '../../src/lsa/volumes';
import { PrimaryReplicator } from '../../src/replication/primary';
import { silentLogger } from '../../src/util/log';

const MAIN_JS = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');
const START_TIMEOUT_MS = 60_000;

export interface BenchPair {
  engine: LsaEngine;
  replicator: PrimaryReplicator;
  api: ControlApi;
  controlUrl: string;
  post(pathname: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }>;
  waitDuplex(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

function startSecondary(dir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [MAIN_JS, 'serve', '--dir', dir, '--replica-listen', '127.0.0.1:0', '--nbd', '127.0.0.1:0', '--log-format', 'json'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the secondary did not listen within ${START_TIMEOUT_MS} ms: ${log.slice(-2000)}`)), START_TIMEOUT_MS);
    child.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.length > 100_000) log = log.slice(-50_000);
      const m = /"msg":"replica link listening","address":"[^"]*:(\d+)"/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the secondary exited with ${code}: ${log.slice(-2000)}`));
    });
  });
}

export async function startBenchPair(root: string, geometry: Geometry, volumes: [string, number][]): Promise<BenchPair> {
  const pdir = path.join(root, 'primary');
  const sdir = path.join(root, 'secondary');
  const engine = await createArray(pdir, { geometry, volume: null });
  for (const [name, bytes] of volumes) await createVolume(engine, name, bytes, 'none');
  const secondaryEngine = await createArray(sdir, { geometry, volume: null });
  await secondaryEngine.close();
  ensureKeyFile(path.join(pdir, KEY_FILE));
  fs.copyFileSync(path.join(pdir, KEY_FILE), path.join(sdir, KEY_FILE));
  const secondary = await startSecondary(sdir);
  const exited = new Promise<void>((resolve) => secondary.child.once('exit', () => resolve()));
  const replicator = new PrimaryReplicator(engine, { host: '127.0.0.1', port: secondary.port, key: readKeyFile(path.join(pdir, KEY_FILE)), mode: 'sync', lagMaxBytes: 64 * 1024 * 1024, log: silentLogger, reconnectMs: 100 });
  replicator.start();
  const api = new ControlApi({ host: '127.0.0.1', port: 0, engine, replicator, log: silentLogger, role: 'primary' });
  const { port } = await api.listen();
  const controlUrl = `http://127.0.0.1:${port}`;
  return {
    engine, replicator, api, controlUrl,
    async post(pathname, body) {
      const res = await fetch(`${controlUrl}${pathname}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    },
    async waitDuplex(timeoutMs = 600_000) {
      await engine.flush();
      const deadline = Date.now() + timeoutMs;
      while (!replicator.status().every((s) => s.state === 'duplex' && s.lagSeq === 0)) {
        if (Date.now() > deadline) throw new Error(`the pair is not duplex after ${timeoutMs} ms: ${JSON.stringify(replicator.status())}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      await api.close();
      await replicator.stop();
      await engine.close().catch(() => undefined);
      secondary.child.kill('SIGTERM');
      await exited;
    },
  };
}
