// The NBD server: a TCP listener (loopback unless told otherwise) whose connections all serve
// the volumes of one engine. Shutdown stops accepting, lets every connection finish its
// in-flight requests, then flushes; the caller closes the engine it opened.

import * as net from 'node:net';
import { InUseError, IoError } from '../errors';
import type { HostIo } from '../lsa/engine-ports';
import { silentLogger, type Logger } from '../util/log';
import { formatSize } from '../util/size';
import { NbdConnection, type ConnectionLimits } from './connection';
import { CONNECTIONS_MAX, HANDSHAKE_TIMEOUT_MS, REQUEST_BODY_TIMEOUT_MS, SHUTDOWN_GRACE_MS } from './constants';
import { ExportTable, type ExtraExports } from './exports';

export const DEFAULT_NBD_HOST = '127.0.0.1';
export const DEFAULT_NBD_PORT = 10809;

export interface NbdServerOptions {
  host?: string;
  port?: number;
  readOnly?: boolean;
  log?: Logger;
  limits?: Partial<ConnectionLimits>;
  /** More read-only exports (snapshots), looked up by name. */
  extra?: ExtraExports | null;
}

export class NbdServer {
  readonly exports: ExportTable;
  private readonly server: net.Server;
  private readonly log: Logger;
  private readonly limits: ConnectionLimits;
  private readonly runs = new Map<NbdConnection, Promise<void>>();
  private nextId = 1;
  private stopping: Promise<void> | null = null;
  private bound: net.AddressInfo | null = null;

  constructor(readonly engine: HostIo, private readonly opts: NbdServerOptions = {}) {
    this.log = opts.log ?? silentLogger;
    this.exports = new ExportTable(engine, opts.readOnly ?? false, opts.extra ?? null);
    this.limits = {
      handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
      requestBodyTimeoutMs: REQUEST_BODY_TIMEOUT_MS,
      shutdownGraceMs: SHUTDOWN_GRACE_MS,
      ...opts.limits,
    };
    this.server = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
  }

  /** Starts listening; resolves with the bound address (port 0 picks a free port). */
  listen(): Promise<net.AddressInfo> {
    const host = this.opts.host ?? DEFAULT_NBD_HOST;
    const port = this.opts.port ?? DEFAULT_NBD_PORT;
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        if (err.code === 'EADDRINUSE') reject(new InUseError(`${host}:${port} is in use by another program; pick another --nbd address`, { host, port }));
        else reject(new IoError(`cannot listen on ${host}:${port}: ${err.message}`, { host, port }, err));
      };
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        this.server.on('error', (err) => this.log.error('listener error', { error: err.message }));
        this.bound = this.server.address() as net.AddressInfo;
        const exports = this.exports.list().map((e) => `${e.name} (${formatSize(e.volume.sizeBytes)})`);
        this.log.info('listening', { address: this.bound.address, port: this.bound.port, readOnly: this.exports.readOnly, exports });
        resolve(this.bound);
      });
    });
  }

  get address(): net.AddressInfo | null {
    return this.bound;
  }

  get connectionCount(): number {
    return this.runs.size;
  }

  private accept(socket: net.Socket): void {
    const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    if (this.stopping) {
      socket.destroy();
      return;
    }
    if (this.runs.size >= CONNECTIONS_MAX) {
      this.log.warn('too many connections; refusing one', { client: peer, limit: CONNECTIONS_MAX });
      socket.destroy();
      return;
    }
    const conn = new NbdConnection(this.nextId++, peer, socket, {
      exports: this.exports,
      log: this.log,
      limits: this.limits,
      isStopping: () => this.stopping !== null,
    });
    const run = conn.run().catch((err: unknown) => {
      this.log.error('connection crashed', { conn: conn.id, error: (err as Error)?.stack ?? String(err) });
    }).finally(() => this.runs.delete(conn));
    this.runs.set(conn, run);
  }

  /** Stops accepting, finishes in-flight requests on every connection, closes them, flushes. */
  shutdown(): Promise<void> {
    if (!this.stopping) this.stopping = this.stop();
    return this.stopping;
  }

  /** Drops the listener and every connection at once: nothing finishes, nothing is flushed.
   * What a crash would do; tests use it before they simulate a power loss. */
  abort(): void {
    this.stopping ??= Promise.resolve();
    this.server.close();
    for (const conn of this.runs.keys()) conn.destroy();
  }

  private async stop(): Promise<void> {
    this.log.info('shutting down: no new connections; finishing in-flight requests', { connections: this.runs.size });
    // stop accepting; sockets that linger after our FIN do not hold the shutdown up
    this.server.close();
    for (const conn of this.runs.keys()) conn.stop();
    await Promise.all([...this.runs.values()]);
    if (!this.engine.failed) await this.engine.flush();
    this.log.info('shut down: every acknowledged write is flushed');
  }
}
