// The real network: TCP streams (node:net) and their upgrade to TLS with a pre-shared key
// (node:tls). Node offers PSK only up to TLS 1.2 (its TLS 1.3 wants certificates), so the
// suites are TLS 1.2's forward-secret PSK ones: an ephemeral (EC)DHE exchange authenticated by
// the key, so a key stolen later does not open recorded sessions.

import * as net from 'node:net';
import * as tls from 'node:tls';
import { CHANNEL_BINDING_BYTES, CHANNEL_BINDING_LABEL, formatAddress, type Address, type ByteStream, type Listener, type StreamHandlers, type StreamSecurity, type TlsPsk, type Transport } from './transport';

/** Server preference first. ChaCha20 and AES-GCM run at about the same speed here (~420 MiB/s
 * per core against ~800 plain, loopback); ECDHE costs less than DHE per handshake. */
export const TLS_PSK_CIPHERS = 'ECDHE-PSK-CHACHA20-POLY1305:DHE-PSK-AES256-GCM-SHA384';
/** After end(), a peer that keeps its side open is cut off after this long. */
export const LINGER_MS = 1000;

/** What an OpenSSL error means for the operator (its code stays in the message). */
function tlsReason(err: Error, handshaking: boolean): string {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (!code.startsWith('ERR_SSL')) return err.message;
  if (handshaking) {
    if (/BAD_RECORD_MAC|DECRYPTION_FAILED|PSK_IDENTITY/.test(code)) return `TLS-PSK handshake failed (${code}): the two ends hold different keys`;
    return `TLS-PSK handshake failed (${code}): the peer does not speak the same TLS`;
  }
  if (/BAD_RECORD_MAC|DECRYPTION_FAILED/.test(code)) return `TLS record failed its integrity check (${code}): bytes were changed on the way`;
  return `TLS error (${code})`;
}

class TcpStream implements ByteStream {
  private h: StreamHandlers | null = null;
  /** Bytes that arrived before anyone attached. */
  private early: Buffer[] = [];
  private closedReason: string | null = null;
  private error: string | null = null;
  private linger: NodeJS.Timeout | null = null;
  /** Handed over to a TLS socket by secure(): this one says nothing more. */
  private replaced = false;
  /** end() was called: what arrives from now on is dropped, not kept. */
  private ending = false;

  constructor(private readonly socket: net.Socket, readonly security: StreamSecurity, readonly peer: string) {
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('drain', this.onDrain);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  private onData = (d: Buffer): void => {
    if (this.ending) return;
    if (this.h) this.h.data(d);
    else this.early.push(d);
  };

  private onDrain = (): void => this.h?.drain();

  private onError = (err: Error): void => {
    // the first error says why, unless a TLS one comes after a plain one (EPROTO, then the alert)
    const tlsError = ((err as NodeJS.ErrnoException).code ?? '').startsWith('ERR_SSL');
    if (this.error === null || (tlsError && !this.error.startsWith('TLS'))) this.error = tlsReason(err, false);
    // a TLS socket can report a failed record MAC without closing: an errored stream is done
    this.socket.destroy();
  };

  private onClose = (): void => {
    if (this.linger) clearTimeout(this.linger);
    if (this.replaced || this.closedReason !== null) return;
    this.closedReason = this.error ?? 'connection closed';
    this.h?.close(this.closedReason);
  };

  attach(h: StreamHandlers): void {
    this.h = h;
    for (const d of this.early.splice(0)) h.data(d);
    if (this.closedReason !== null) h.close(this.closedReason);
  }

  write(chunks: readonly Buffer[]): void {
    if (this.socket.destroyed) return;
    if (chunks.length === 1) {
      this.socket.write(chunks[0]);
      return;
    }
    this.socket.cork();
    for (const c of chunks) this.socket.write(c);
    this.socket.uncork();
  }

  get queuedBytes(): number {
    return this.socket.writableLength;
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  end(): void {
    this.ending = true;
    this.early = [];
    // read no more: a stranger cut off must not have its garbage read (and dropped) until the
    // linger is over; its sends back up instead
    this.socket.pause();
    this.socket.end();
    if (!this.linger && !this.socket.destroyed) {
      this.linger = setTimeout(() => this.socket.destroy(), LINGER_MS);
      this.linger.unref();
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  channelBinding(): Buffer {
    if (!(this.socket instanceof tls.TLSSocket)) return Buffer.alloc(0);
    return this.socket.exportKeyingMaterial(CHANNEL_BINDING_BYTES, CHANNEL_BINDING_LABEL, Buffer.alloc(0));
  }

  secure(opts: TlsPsk): Promise<ByteStream> {
    if (this.security !== 'plain') return Promise.reject(new Error('the stream is secured already'));
    if (this.closedReason !== null || this.socket.destroyed) return Promise.reject(new Error(`cannot start TLS: ${this.closedReason ?? 'connection closed'}`));
    if (this.early.length > 0) {
      this.socket.destroy();
      return Promise.reject(new Error('the peer sent bytes before the TLS handshake'));
    }
    this.replaced = true;
    this.socket.off('data', this.onData);
    this.socket.off('drain', this.onDrain);
    this.socket.off('error', this.onError);
    this.socket.off('close', this.onClose);
    return (opts.side === 'server' ? serverTls(this.socket, opts) : clientTls(this.socket, opts)).then((t) => new TcpStream(t, 'tls-psk', this.peer));
  }
}

const TLS_COMMON = { ciphers: TLS_PSK_CIPHERS, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' } as const;

function clientTls(socket: net.Socket, opts: TlsPsk): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const t = tls.connect({ socket, ...TLS_COMMON, pskCallback: () => ({ psk: opts.psk, identity: opts.identity }), checkServerIdentity: () => undefined });
    const fail = (err: Error): void => {
      t.destroy();
      reject(new Error(tlsReason(err, true)));
    };
    const closed = (): void => reject(new Error('connection closed during the TLS handshake'));
    t.once('error', fail);
    t.once('close', closed);
    t.once('secureConnect', () => {
      t.off('error', fail);
      t.off('close', closed);
      resolve(t);
    });
  });
}

/** A server-side TLSSocket made by hand keeps its errors to itself (Node releases control of
 * it only to a tls.Server, so a failed record MAC would neither be reported nor close it):
 * the socket goes to a tls.Server that never listens. */
function serverTls(socket: net.Socket, opts: TlsPsk): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const server = tls.createServer({
      ...TLS_COMMON, dhparam: 'auto', honorCipherOrder: true,
      pskCallback: (_socket: tls.TLSSocket, identity: string) => (identity === opts.identity ? opts.psk : null),
    });
    const closed = (): void => reject(new Error('connection closed during the TLS handshake'));
    socket.once('close', closed);
    server.once('secureConnection', (t: tls.TLSSocket) => {
      socket.off('close', closed);
      resolve(t);
    });
    server.once('tlsClientError', (err: Error) => {
      socket.off('close', closed);
      socket.destroy();
      reject(new Error(tlsReason(err, true)));
    });
    server.emit('connection', socket);
  });
}

function peerOf(socket: net.Socket): string {
  return socket.remoteAddress ? formatAddress({ host: socket.remoteAddress, port: socket.remotePort ?? 0 }) : 'unknown peer';
}

export const tcpTransport: Transport = {
  async listen(at: Address, onStream: (s: ByteStream) => void): Promise<Listener> {
    const server = net.createServer((socket) => onStream(new TcpStream(socket, 'plain', peerOf(socket))));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(at.port, at.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const a = server.address() as net.AddressInfo;
    return {
      address: { host: a.address, port: a.port },
      // stops listening at once; the streams already accepted are their owners' to close
      close: async () => {
        server.close();
        await new Promise<void>((resolve) => {
          setImmediate(resolve);
        });
      },
    };
  },

  connect(to: Address, abort?: AbortSignal): Promise<ByteStream> {
    return new Promise<ByteStream>((resolve, reject) => {
      const socket = net.connect({ host: to.host, port: to.port });
      const onAbort = (): void => {
        socket.destroy(new Error(`connecting to ${formatAddress(to)} was given up`));
      };
      const onError = (err: Error): void => {
        abort?.removeEventListener('abort', onAbort);
        reject(err);
      };
      abort?.addEventListener('abort', onAbort, { once: true });
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        abort?.removeEventListener('abort', onAbort);
        resolve(new TcpStream(socket, 'plain', formatAddress(to)));
      });
    });
  },
};
