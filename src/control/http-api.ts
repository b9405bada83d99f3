// The primary's control API: HTTP with JSON on 127.0.0.1:10810 by default. A thin mapping: each
// request passes the guard (request-guard.ts: Host, Origin, the bearer token, JSON bodies),
// its body is checked (request-bodies.ts), and the snapshot relay does the work
// (src/snapshot/primary-snapshots.ts); errors answer with httpStatusOf and their `code`.
//
//   GET  /status                      pair status of every volume
//   POST /volumes/:name/snapshots     {name?, wait?, timeoutMs?, replace?, volumes?: [more names]}
//   POST /snapshots                   {volumes: [...], name?, wait?, timeoutMs?, replace?}
//   POST /volumes/:name/restore       {name, timeoutMs?}: the volume back to a snapshot of the
//                                     secondary, through the pair
//
// Bounded: at most CONTROL_CONNECTIONS_MAX connections (more are closed at once), and a
// client has CONTROL_HEADERS_TIMEOUT_MS to send its headers and CONTROL_REQUEST_TIMEOUT_MS to
// send its whole request (the answer may take as long as the work: a restore runs for minutes).

import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { NotFoundError } from '../errors';
import type { PrimarySnapshots } from '../snapshot/primary-snapshots';
import type { Logger } from '../util/log';
import { pathSegments, readJson, sendError, sendJson } from './http-io';
import { restoreAsk, snapshotAsk } from './request-bodies';
import { RequestGuard, allowedHosts } from './request-guard';

export const DEFAULT_CONTROL_PORT = 10810;
export const CONTROL_CONNECTIONS_MAX = 64;
export const CONTROL_HEADERS_TIMEOUT_MS = 5_000;
export const CONTROL_REQUEST_TIMEOUT_MS = 10_000;
/** How often the server looks for connections past those deadlines. */
const CONNECTIONS_CHECK_MS = 1_000;

/** The status line for a request the HTTP parser refused (or that came too slowly). */
function clientErrorReply(code: string | undefined): string {
  const status = code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
  return `HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`;
}

export interface ControlApiOptions {
  host: string;
  port: number;
  /** The control token (hex) every request must carry. */
  token: string;
  snapshots: PrimarySnapshots;
  status: () => Record<string, unknown>;
  log: Logger;
}

export class ControlApi {
  private server: http.Server | null = null;
  private guard: RequestGuard | null = null;

  constructor(readonly opts: ControlApiOptions) {}

  async listen(): Promise<{ host: string; port: number }> {
    const server = http.createServer({
      headersTimeout: CONTROL_HEADERS_TIMEOUT_MS,
      requestTimeout: CONTROL_REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: CONNECTIONS_CHECK_MS,
    }, (req, res) => this.serve(req, res));
    server.maxConnections = CONTROL_CONNECTIONS_MAX;
    server.on('drop', (d?: { remoteAddress?: string }) => this.opts.log.debug('too many control connections; one closed', { client: d?.remoteAddress ?? null, limit: CONTROL_CONNECTIONS_MAX }));
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      this.opts.log.debug('control client error', { error: err.code ?? err.message });
      // destroyed, not ended: a client that never reads (slowloris) would hold a half-closed
      // socket for ever
      if (socket.writable && socket.bytesWritten === 0 && err.code !== 'ECONNRESET') socket.write(clientErrorReply(err.code));
      socket.destroy();
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => resolve());
    });
    const a = server.address() as AddressInfo;
    this.guard = new RequestGuard(this.opts.token, allowedHosts(this.opts.host, a.address, a.port));
    const shown = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    this.opts.log.info('control API listening', { address: `http://${shown}:${a.port}` });
    return { host: a.address, port: a.port };
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.on('close', () => {
      if (!res.writableFinished) this.opts.log.debug('control client went away before the answer', { method: req.method, url: req.url });
    });
    this.handle(req, res).catch((err: unknown) => {
      const status = sendError(res, err);
      const fields = { client: req.socket.remoteAddress ?? null, method: req.method, url: req.url, status, error: (err as Error)?.message ?? String(err) };
      if (status === 401 || status === 403) this.opts.log.warn('control request refused', fields);
      else if (status >= 500 && status !== 502 && status !== 503 && status !== 504) this.opts.log.error('control request failed', fields);
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.guard!.check(req);
    const url = new URL(req.url ?? '/', 'http://control');
    const parts = pathSegments(url.pathname);
    const snapshots = this.opts.snapshots;
    if (req.method === 'GET' && url.pathname === '/status') return sendJson(res, 200, this.opts.status());
    if (req.method === 'POST' && parts.length === 3 && parts[0] === 'volumes' && parts[2] === 'snapshots') {
      return sendJson(res, 201, await snapshots.take(snapshotAsk(await readJson(req), parts[1])));
    }
    if (req.method === 'POST' && parts.length === 3 && parts[0] === 'volumes' && parts[2] === 'restore') {
      const ask = restoreAsk(await readJson(req));
      return sendJson(res, 200, await snapshots.restore(parts[1], ask.name, ask.timeoutMs));
    }
    if (req.method === 'POST' && url.pathname === '/snapshots') {
      return sendJson(res, 201, await snapshots.take(snapshotAsk(await readJson(req), null)));
    }
    throw new NotFoundError(`no such endpoint: ${req.method} ${url.pathname} (try GET /status or POST /volumes/NAME/snapshots)`);
  }
}
