// The network as the layers above src/io see it: a transport listens and connects, and hands
// out byte streams; a stream can be upgraded to TLS with a pre-shared key, or says that its
// transport protects it already. Two implementations pass one conformance suite
// (test/io/transport-conformance.test.ts): tcp-transport.ts (node:net and node:tls) and
// mem-network.ts (in memory, on the simulated scheduler, with delays, stalls, cuts and
// corrupted bytes).

export interface Address {
  host: string;
  port: number;
}

/** What a stream tells whoever reads it. */
export interface StreamHandlers {
  /** Bytes from the peer, in order. */
  data(chunk: Buffer): void;
  /** The bytes queued to send went down (queuedBytes): a sender waiting for room may go on. */
  drain(): void;
  /** The stream is closed (by either end, or broken): called once, and nothing arrives after.
   * `reason` says why ("connection closed" for an orderly close by the peer). */
  close(reason: string): void;
}

/** plain: bytes as they go; tls-psk: encrypted and integrity-protected with a pre-shared key
 * after secure(). */
export type StreamSecurity = 'plain' | 'tls-psk';

/** TLS with a pre-shared key (RFC 4279) for secure(). */
export interface TlsPsk {
  /** The connecting end is the client; the listening end the server. */
  side: 'client' | 'server';
  /** The identity the client names, and the only one the server accepts. */
  identity: string;
  psk: Buffer;
}

export interface ByteStream {
  /** The other end, "host:port", for logs. */
  readonly peer: string;
  readonly security: StreamSecurity;
  /** Sets who hears this stream (replacing whoever did). Bytes that arrived before are kept
   * for them. */
  attach(h: StreamHandlers): void;
  /** Queues bytes to send, in order (several buffers leave as one write where possible). */
  write(chunks: readonly Buffer[]): void;
  /** Bytes written and not yet taken by the network. */
  readonly queuedBytes: number;
  /** Stops and restarts delivering data (the peer's sends back up, as TCP flow control). */
  pause(): void;
  resume(): void;
  /** Closes once what was written has gone (an orderly close); a peer that never closes its
   * end is cut off after a short linger. Nothing more is read after end(). */
  end(): void;
  /** Closes at once; what is queued is lost. */
  destroy(): void;
  /** Upgrades the stream to TLS-PSK. Resolves with the protected stream, which replaces this
   * one (attach to it; this one is not used again). The server side calls it before the
   * client sends its first TLS byte. Rejects with the reason when the handshake fails
   * (another key, or a peer that does not speak TLS). */
  secure(tls: TlsPsk): Promise<ByteStream>;
  /** 32 bytes that both ends of one TLS session share and no other session has (the TLS
   * exporter, RFC 5705, with RFC 9266's label "EXPORTER-Channel-Binding" and an empty context);
   * empty when plain. A
   * handshake MACed over it cannot be relayed into another session. */
  channelBinding(): Buffer;
}

export interface Listener {
  readonly address: Address;
  /** Stops accepting at once; streams already handed out stay open (their owners close
   * them). */
  close(): Promise<void>;
}

export interface Transport {
  /** Listens at `at` (port 0: any free one); each accepted stream goes to `onStream`. */
  listen(at: Address, onStream: (s: ByteStream) => void): Promise<Listener>;
  /** Opens a stream to `to`; rejects when nobody listens there, the network fails, or
   * `abort` fires first. */
  connect(to: Address, abort?: AbortSignal): Promise<ByteStream>;
}

/** "host:port", with brackets around an IPv6 host. */
export function formatAddress(a: Address): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** Length of channelBinding() of a secured stream. */
export const CHANNEL_BINDING_BYTES = 32;
/** The exporter label of RFC 9266 (channel bindings from TLS exported keying material). */
export const CHANNEL_BINDING_LABEL = 'EXPORTER-Channel-Binding';
