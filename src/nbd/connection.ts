// One client connection: option haggling, then the transmission loop. The loop reads one
// request at a time, checks it at the edge (request.ts), and starts it without waiting for
// it, so many requests run at once and replies go out in completion order. Memory is
// bounded: a request is admitted only while fewer than REQUESTS_IN_FLIGHT_MAX are in flight
// and their payload bytes stay under IN_FLIGHT_BYTES_MAX; a request leaves the window only
// when its reply has been handed to the kernel, so a client that stops reading replies stops
// being read. Write payloads are read in full before the write starts: a payload that never
// arrives changes nothing.
//
// Connection lifecycle:  handshake --GO/EXPORT_NAME--> transmission --DISC/EOF/error/stop-->
//                        draining (in-flight requests finish, replies sent) --> closed

import type { Socket } from 'node:net';
import { ProtocolError, type LsaError } from '../errors';
import type { Logger } from '../util/log';
import { errorReply, execute } from './commands';
import {
  CMD_DISC, CMD_READ, IN_FLIGHT_BYTES_MAX, LOGGED_ERRORS_PER_CONNECTION_MAX, NBD_EIO, NBD_ENOSPC,
  READ_AHEAD_BYTES_MAX, REQUEST_HEADER_BYTES, REQUESTS_IN_FLIGHT_MAX,
} from './constants';
import { nbdErrnoOf } from './errno';
import type { ExportTable } from './exports';
import { negotiate, optionName, type Session } from './handshake';
import { checkRequest, commandName, decodeHeader, isGoodMagic, payloadBytesOf, type Request, type RequestHeader } from './request';
import { ReadEndedError, SocketReader } from './socket-reader';

export interface ConnectionLimits {
  handshakeTimeoutMs: number;
  requestBodyTimeoutMs: number;
  shutdownGraceMs: number;
}

export interface ConnectionDeps {
  exports: ExportTable;
  log: Logger;
  limits: ConnectionLimits;
  isStopping(): boolean;
}

/** After our FIN, a peer that does not close its side is cut off after this long. */
const LINGER_MS = 2000;

export class NbdConnection {
  private readonly reader: SocketReader;
  private readonly log: Logger;
  private session: Session | null = null;
  private inFlight = 0;
  private inFlightBytes = 0;
  private waiters: (() => void)[] = [];
  private stopping = false;
  private errorsLogged = 0;
  private errorsSuppressed = 0;
  private requests = 0;
  private failedRequests = 0;
  /** Completions of replies not yet handed to the kernel; run on close if they never are. */
  private unsent = new Set<() => void>();
  private corked = false;

  constructor(readonly id: number, readonly peer: string, private readonly socket: Socket, private readonly deps: ConnectionDeps) {
    this.log = deps.log;
    this.reader = new SocketReader(socket, READ_AHEAD_BYTES_MAX);
    socket.setNoDelay(true);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.log.debug('socket error', { conn: id, client: peer, error: err.code ?? err.message });
      socket.destroy();
    });
    socket.on('close', () => {
      for (const finish of [...this.unsent]) finish();
    });
  }

  /** Serves the client until it leaves, breaks the protocol, or the server stops. */
  async run(): Promise<void> {
    let why = 'closed';
    try {
      this.session = await negotiate(
        {
          read: (n, t) => this.reader.read(n, t),
          skip: (n, t) => this.reader.skip(n, t),
          write: (buf) => this.write([buf]),
        },
        {
          exports: this.deps.exports,
          timeoutMs: this.deps.limits.handshakeTimeoutMs,
          isStopping: () => this.stopping || this.deps.isStopping(),
          refused: (option, reply, message) => this.noteError('warn', 'option refused', { option: optionName(option), reply: `0x${reply.toString(16)}`, error: message }),
        },
      );
      if (!this.session) {
        why = 'client aborted the handshake';
        return;
      }
      const s = this.session;
      this.log.info('client connected', { conn: this.id, client: this.peer, export: s.exp.name, via: s.via, structured: s.structured, baseAllocation: s.baseAllocation, flags: `0x${s.flags.toString(16)}` });
      why = await this.transmit(s);
    } catch (err) {
      why = this.describeEnd(err);
    } finally {
      await this.drain();
      this.close();
      const fields: Record<string, unknown> = { conn: this.id, client: this.peer, requests: this.requests, failed: this.failedRequests };
      if (this.errorsSuppressed > 0) fields.unloggedErrors = this.errorsSuppressed;
      this.log.info(`client disconnected: ${why}`, fields);
    }
  }

  /** Shutdown: read no more requests; run() returns once in-flight requests are answered. */
  stop(): void {
    this.stopping = true;
    this.reader.abort('the server is shutting down');
  }

  /** Hard close, nothing more is sent (server abort). */
  destroy(): void {
    this.stopping = true;
    this.reader.abort('the server aborted');
    this.socket.destroy();
  }

  private async transmit(session: Session): Promise<string> {
    for (;;) {
      if (this.stopping) return 'server shutting down';
      const raw = await this.reader.read(REQUEST_HEADER_BYTES, this.deps.limits.requestBodyTimeoutMs, true);
      const h = decodeHeader(raw);
      if (!isGoodMagic(h)) {
        throw new ProtocolError(`bad request magic 0x${h.magic.toString(16)}: the stream cannot be resynchronised, closing`);
      }
      if (h.type === CMD_DISC) return 'client sent DISC';
      this.requests++;
      const checked = checkRequest(h, session);
      const payloadBytes = payloadBytesOf(h);
      if (checked instanceof Error) {
        // never hold a payload we will not use; read past it to stay in step with the client
        if (payloadBytes > 0) await this.reader.skip(payloadBytes, this.deps.limits.requestBodyTimeoutMs);
        await this.admit(0);
        this.fail(h, checked, 0);
        continue;
      }
      const cost = checked.type === CMD_READ ? checked.length : payloadBytes;
      await this.admit(cost);
      let payload: Buffer | null = null;
      if (payloadBytes > 0) {
        try {
          payload = await this.reader.read(payloadBytes, this.deps.limits.requestBodyTimeoutMs);
        } catch (err) {
          this.release(cost);
          if (err instanceof ReadEndedError) throw new ReadEndedError(err.reason, `${commandName(h.type)} of ${payloadBytes} bytes at ${h.offset}: payload incomplete (${err.message}); nothing written`);
          throw err;
        }
      }
      void this.serve(checked, payload, cost);
    }
  }

  private async serve(req: Request, payload: Buffer | null, cost: number): Promise<void> {
    let reply: Buffer[];
    try {
      reply = await execute(req, payload, this.session!);
    } catch (err) {
      this.fail({ type: req.type, flags: req.flags, offset: BigInt(req.offset), length: req.length, handle: req.handle, magic: 0 }, err, cost);
      return;
    }
    this.send(reply, cost);
  }

  /** Answers a request with the errno of `err`, and logs it. */
  private fail(h: RequestHeader, err: unknown, cost: number): void {
    this.failedRequests++;
    const errno = nbdErrnoOf(err);
    const message = err instanceof Error ? err.message : String(err);
    const serious = errno === NBD_EIO || errno === NBD_ENOSPC;
    this.noteError(serious ? 'error' : 'warn', 'request failed', {
      command: commandName(h.type), offset: h.offset.toString(), length: h.length, errno, code: (err as LsaError)?.code, error: message,
    });
    this.send(errorReply(h.handle, errno, this.session?.structured ?? false, message), cost);
  }

  // ---- the in-flight window ----

  private async admit(cost: number): Promise<void> {
    while (this.inFlight >= REQUESTS_IN_FLIGHT_MAX || (this.inFlightBytes > 0 && this.inFlightBytes + cost > IN_FLIGHT_BYTES_MAX)) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    this.inFlight++;
    this.inFlightBytes += cost;
  }

  private release(cost: number): void {
    this.inFlight--;
    this.inFlightBytes -= cost;
    const w = this.waiters.splice(0, this.waiters.length);
    for (const resolve of w) resolve();
  }

  /** Sends a reply; its request leaves the window once the bytes are with the kernel. */
  private send(bufs: Buffer[], cost: number): void {
    this.write(bufs, () => this.release(cost));
  }

  private write(bufs: Buffer[], done?: () => void): void {
    if (this.socket.destroyed || !this.socket.writable) {
      done?.();
      return;
    }
    let finish: (() => void) | undefined;
    if (done) {
      finish = (): void => {
        if (this.unsent.delete(finish!)) done();
      };
      this.unsent.add(finish);
    }
    // replies finished in the same tick leave in one write (one syscall, one TCP segment)
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    for (let i = 0; i < bufs.length; i++) this.socket.write(bufs[i], i === bufs.length - 1 ? finish : undefined);
  }

  /** Waits for in-flight requests (bounded by the shutdown grace when stopping). */
  private async drain(): Promise<void> {
    const started = Date.now();
    while (this.inFlight > 0) {
      const waited = Date.now() - started;
      if (this.stopping && waited >= this.deps.limits.shutdownGraceMs) {
        this.log.warn('in-flight requests still unanswered after the shutdown grace; closing', { conn: this.id, inFlight: this.inFlight });
        return;
      }
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        if (this.stopping) setTimeout(resolve, 100);
      });
    }
  }

  private close(): void {
    this.reader.abort('connection closed');
    if (this.socket.destroyed) return;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), LINGER_MS).unref();
  }

  private describeEnd(err: unknown): string {
    if (err instanceof ReadEndedError) {
      if (err.reason === 'aborted') return 'server shutting down';
      if (err.reason === 'eof') {
        if (this.reader.bufferedBytes === 0 && !err.message.includes('payload incomplete')) return 'client closed the connection';
        this.noteError('warn', 'client left mid-message', { error: err.message, bytesLeftUnread: this.reader.bufferedBytes });
        return `client left mid-message: ${err.message}`;
      }
      this.noteError('warn', 'client too slow', { error: err.message });
      return err.message;
    }
    if (err instanceof ProtocolError) {
      this.noteError('warn', 'protocol violation', { error: err.message });
      return err.message;
    }
    this.log.error('connection failed', { conn: this.id, client: this.peer, error: (err as Error)?.stack ?? String(err) });
    return 'internal error';
  }

  private noteError(level: 'warn' | 'error', msg: string, fields: Record<string, unknown>): void {
    if (this.errorsLogged >= LOGGED_ERRORS_PER_CONNECTION_MAX) {
      this.errorsSuppressed++;
      return;
    }
    this.errorsLogged++;
    this.log[level](msg, { conn: this.id, client: this.peer, ...fields });
  }
}
