// The primary's control API: HTTP with JSON on 127.0.0.1:10810 by default.
//
//   GET  /status                      pair status of every volume
//   POST /volumes/:name/snapshots     {name?, wait?, timeoutMs?, volumes?: [more names]}
//   POST /snapshots                   {volumes: [...], name?, wait?, timeoutMs?}
//   POST /volumes/:name/restore       {name, timeoutMs?}: the volume back to a snapshot of the
//                                     secondary, through the pair (snapshot-restore.ts)
//
// A snapshot request follows the seed (steps 300-318): if a remote-copy update is in progress
// for a volume and the caller did not ask to wait, the answer is 409 and nothing is taken;
// otherwise the primary fixes a barrier and relays the request to the secondary, which takes
// the snapshot from its duplicate and answers with where it put it. Host I/O never pauses.

import * as http from 'node:http';
import type { LsaEngine } from '../lsa/engine';
import type { PrimaryReplicator } from '../replication/primary';
import { restoreFromSecondary } from './snapshot-restore';
import { InvalidArgumentError, NotFoundError } from '../errors';
import type { Logger } from '../util/log';

export const DEFAULT_CONTROL_PORT = 10810;
const BODY_BYTES_MAX = 64 * 1024;
const SNAPSHOT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface ControlApiOptions {
  host: string;
  port: number;
  engine: LsaEngine;
  replicator: PrimaryReplicator | null;
  log: Logger;
  role: string;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly extra: Record<string, unknown> = {}) {
    super(message);
  }
}

export class ControlApi {
  private server: http.Server | null = null;
  /** Volumes being restored: one restore at a time each, and no snapshot of them meanwhile. */
  private restoring = new Set<string>();

  constructor(readonly opts: ControlApiOptions) {}

  async listen(): Promise<{ host: string; port: number }> {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        const e = err instanceof HttpError ? err : new HttpError(500, (err as Error).message);
        if (e.status >= 500) this.opts.log.error('control request failed', { url: req.url, error: e.message });
        send(res, e.status, { error: e.message, ...e.extra });
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.opts.port, this.opts.host, () => resolve());
    });
    const a = this.server.address() as import('node:net').AddressInfo;
    this.opts.log.info('control API listening', { address: `http://${a.address}:${a.port}` });
    return { host: a.address, port: a.port };
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (req.method === 'GET' && url.pathname === '/status') return send(res, 200, this.status());
    if (req.method === 'POST' && parts.length === 3 && parts[0] === 'volumes' && parts[2] === 'snapshots') {
      const body = await readJson(req);
      const more = Array.isArray(body.volumes) ? body.volumes : [];
      return this.snapshot(res, [parts[1], ...more], body);
    }
    if (req.method === 'POST' && parts.length === 3 && parts[0] === 'volumes' && parts[2] === 'restore') {
      return this.restore(res, parts[1], await readJson(req));
    }
    if (req.method === 'POST' && url.pathname === '/snapshots') {
      const body = await readJson(req);
      if (!Array.isArray(body.volumes) || body.volumes.length === 0) throw new HttpError(400, 'name the volumes: {"volumes": ["vol0"]}');
      return this.snapshot(res, body.volumes, body);
    }
    throw new HttpError(404, `no such endpoint: ${req.method} ${url.pathname} (try GET /status or POST /volumes/NAME/snapshots)`);
  }

  private async restore(res: http.ServerResponse, volume: string, body: Record<string, unknown>): Promise<void> {
    const { name, timeoutMs } = restoreArgs(body);
    const rep = this.opts.replicator;
    if (!this.opts.engine.volumesByName.has(volume)) throw new HttpError(404, `no volume "${volume}" on this primary`);
    if (!rep) throw new HttpError(409, 'this server has no secondary (start it with --secondary HOST:PORT)', { code: 'NO_SECONDARY' });
    if (!rep.connected) throw new HttpError(503, 'the secondary is not connected; a restore reads the snapshot from it', { code: 'NOT_CONNECTED' });
    if (this.restoring.has(volume)) throw new HttpError(409, `volume ${volume} is being restored already`, { code: 'RESTORE_IN_PROGRESS' });
    this.restoring.add(volume);
    try {
      send(res, 200, await restoreFromSecondary(this.opts.engine, rep, volume, name, timeoutMs, this.opts.log));
    } catch (err) {
      if (err instanceof NotFoundError) throw new HttpError(404, (err as Error).message);
      const status = err instanceof InvalidArgumentError ? 409 : 502;
      throw new HttpError(status, `restore of ${volume} from snapshot ${name} failed: ${(err as Error).message}`, { code: 'RESTORE_FAILED' });
    } finally {
      this.restoring.delete(volume);
    }
  }

  status(): Record<string, unknown> {
    const e = this.opts.engine;
    const pairs = this.opts.replicator?.status() ?? [...e.volumesById.values()].map((v) => ({
      volume: v.row.name, state: 'simplex', mode: null, lagSeq: 0, lagBytes: 0, outOfSyncTracks: 0, lastAppliedSeq: 0, copyProgress: 0,
    }));
    return { role: this.opts.role, dir: e.dir, connected: this.opts.replicator?.connected ?? false, volumes: pairs };
  }

  private async snapshot(res: http.ServerResponse, volumes: unknown[], body: Record<string, unknown>): Promise<void> {
    const e = this.opts.engine;
    const rep = this.opts.replicator;
    const names = [...new Set(volumes)];
    for (const n of names) {
      if (typeof n !== 'string' || !e.volumesByName.has(n)) throw new HttpError(404, `no volume "${String(n)}" on this primary`);
    }
    const name = body.name === undefined ? 'latest' : body.name;
    if (typeof name !== 'string' || !SNAPSHOT_NAME.test(name)) throw new HttpError(400, 'snapshot name: 1 to 64 letters, digits, ".", "_" or "-"');
    const wait = body.wait === true;
    const timeoutMs = typeof body.timeoutMs === 'number' && body.timeoutMs > 0 ? Math.min(body.timeoutMs, 3_600_000) : 30_000;
    if (!rep) throw new HttpError(409, 'this server has no secondary (start it with --secondary HOST:PORT)', { code: 'NO_SECONDARY' });
    const busy = (names as string[]).find((n) => this.restoring.has(n));
    if (busy) throw new HttpError(409, `volume ${busy} is being restored; take the snapshot when the restore has finished`, { code: 'RESTORE_IN_PROGRESS' });
    const ids = (names as string[]).map((n) => e.volumesByName.get(n)!.row.id);
    const deadline = Date.now() + timeoutMs;
    if (!wait && rep.updateInProgress(ids)) {
      throw new HttpError(409, 'remote copy in progress; retry, or use --wait', { code: 'REMOTE_COPY_IN_PROGRESS' });
    }
    if (wait) {
      while (!rep.connected || ids.some((id) => rep.pairs.get(id)?.state !== 'duplex')) {
        if (Date.now() > deadline) {
          throw new HttpError(504, `the pair did not reach duplex within ${timeoutMs} ms${rep.connected ? '' : ': the secondary is not reachable'}`, { code: 'TIMEOUT' });
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    // the barrier: the last sequence assigned now (a resync, if any, is over: every track's
    // state at the barrier is on its way); made durable here so the secondary may apply up to it
    const barrier = e.nextSeq - 1;
    // the request goes out now, in the same instant: every COMMIT the secondary sees after it
    // comes later in the stream, so it freezes before applying anything past the barrier
    const relayed = rep.relaySnapshot(names as string[], name, barrier, Math.max(1, deadline - Date.now()));
    await e.flush();
    const result = await relayed;
    if (typeof result.error === 'string') throw new HttpError(wait ? 504 : 502, `the secondary did not take the snapshot: ${result.error}`, { code: 'SNAPSHOT_FAILED' });
    const { id: _id, ...rest } = result;
    this.opts.log.info('snapshot taken', { name, volumes: names, seq: result.seq, location: result.location });
    send(res, 201, rest);
  }
}

/** Fields of a restore request, checked. */
function restoreArgs(body: Record<string, unknown>): { name: string; timeoutMs: number } {
  const name = body.name;
  if (typeof name !== 'string' || !SNAPSHOT_NAME.test(name)) throw new HttpError(400, 'name the snapshot: {"name": "latest"}');
  const timeoutMs = typeof body.timeoutMs === 'number' && body.timeoutMs > 0 ? Math.min(body.timeoutMs, 24 * 3_600_000) : 3_600_000;
  return { name, timeoutMs };
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of req) {
    n += (chunk as Buffer).length;
    if (n > BODY_BYTES_MAX) throw new HttpError(413, `request body over ${BODY_BYTES_MAX} bytes`);
    parts.push(chunk as Buffer);
  }
  if (n === 0) return {};
  try {
    const v = JSON.parse(Buffer.concat(parts).toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch {
    throw new HttpError(400, 'the request body is not a JSON object');
  }
}
