// A primary in this process (engine, remote copy in sync mode, control API on a free port) and
// its secondary as a real `lsa serve --replica-listen` child process over TCP loopback, for
// scenarios that measure the pair (snapshot). Real files and SQLite on both sides.

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Geometry } from '../../src/array/geometry';
import type { ControlApi } from '../../src/control/http-api';
import { primaryControlApi } from '../../src/control/primary-control';
import { KEY_FILE, ensureKeyFile, readKeyFile } from '../../src/io/key-file';
import type { LsaEngine } from '../../src/lsa/engine';
import { createArray } from '../../src/lsa/open-array';
import { createVolume } from '../../src/lsa/volumes';
import { PrimaryReplicator } from '../../src/replication/primary';
import { silentLogger } from '../../src/util/log';
import { startSecondaryChild } from './secondary-child';

/** The control API's credential here (the CLI reads it from DIR/control.token). */
const CONTROL_TOKEN = randomBytes(32).toString('hex');


export interface BenchPair {
  engine: LsaEngine;
  replicator: PrimaryReplicator;
  api: ControlApi;
  controlUrl: string;
  post(pathname: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }>;
  waitDuplex(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
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
  const secondary = await startSecondaryChild(sdir);
  const replicator = new PrimaryReplicator(engine, { host: '127.0.0.1', port: secondary.port, key: readKeyFile(path.join(pdir, KEY_FILE)), mode: 'sync', lagMaxBytes: 64 * 1024 * 1024, log: silentLogger, reconnectMs: 100 });
  replicator.start();
  const api = primaryControlApi({ host: '127.0.0.1', port: 0, token: CONTROL_TOKEN, engine, replicator, log: silentLogger });
  const { port } = await api.listen();
  const controlUrl = `http://127.0.0.1:${port}`;
  return {
    engine, replicator, api, controlUrl,
    async post(pathname, body) {
      const res = await fetch(`${controlUrl}${pathname}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${CONTROL_TOKEN}` }, body: JSON.stringify(body) });
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
      await secondary.exited;
    },
  };
}
