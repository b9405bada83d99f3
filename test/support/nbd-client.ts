// A small NBD client for tests: fixed newstyle handshake (GO or EXPORT_NAME, optional
// structured replies and base:allocation), many requests in flight, replies matched by
// handle. It can also send raw bytes (for fuzzing) and still match the replies of the
// well-framed requests among them.

import * as net from 'node:net';
import * as C from '../../src/nbd/constants';
import { SocketReader } from '../../src/nbd/socket-reader';

export interface Reply {
  errno: number;
  /** READ data (zeros where the server sent holes). */
  data?: Buffer;
  /** BLOCK_STATUS descriptors. */
  extents?: { length: number; flags: number }[];
  message?: string;
}

interface Pending {
  type: number;
  length: number;
  offset: number;
  resolve: (r: Reply) => void;
  reject: (e: Error) => void;
  chunks: { errno: number; message: string }[];
  data?: Buffer;
  extents?: { length: number; flags: number }[];
}

export interface HandshakeOptions {
  exportName?: string;
  structured?: boolean;
  meta?: boolean;
  useExportName?: boolean;
}

export interface OptionReply {
  option: number;
  type: number;
  data: Buffer;
}

export function connectSocket(port: number, host = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host, allowHalfOpen: true }, () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

export function optionBytes(option: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(16 + data.length);
  b.writeBigUInt64BE(C.IHAVEOPT, 0);
  b.writeUInt32BE(option >>> 0, 8);
  b.writeUInt32BE(data.length, 12);
  data.copy(b, 16);
  return b;
}

export function infoData(name: string, infos: number[] = []): Buffer {
  const n = Buffer.from(name, 'utf8');
  const b = Buffer.alloc(4 + n.length + 2 + 2 * infos.length);
  b.writeUInt32BE(n.length, 0);
  n.copy(b, 4);
  b.writeUInt16BE(infos.length, 4 + n.length);
  infos.forEach((t, i) => b.writeUInt16BE(t, 6 + n.length + 2 * i));
  return b;
}

export function metaData(name: string, queries: string[]): Buffer {
  const parts: Buffer[] = [];
  const n = Buffer.from(name, 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32BE(n.length, 0);
  parts.push(head, n);
  const count = Buffer.alloc(4);
  count.writeUInt32BE(queries.length, 0);
  parts.push(count);
  for (const q of queries) {
    const qb = Buffer.from(q, 'utf8');
    const l = Buffer.alloc(4);
    l.writeUInt32BE(qb.length, 0);
    parts.push(l, qb);
  }
  return Buffer.concat(parts);
}

export function requestBytes(type: number, flags: number, handle: bigint, offset: bigint | number, length: number, payload?: Buffer): Buffer {
  const b = Buffer.alloc(28 + (payload?.length ?? 0));
  b.writeUInt32BE(C.REQUEST_MAGIC, 0);
  b.writeUInt16BE(flags, 4);
  b.writeUInt16BE(type, 6);
  b.writeBigUInt64BE(handle, 8);
  b.writeBigUInt64BE(BigInt(offset), 16);
  b.writeUInt32BE(length >>> 0, 24);
  payload?.copy(b, 28);
  return b;
}

export class NbdTestClient {
  readonly reader: SocketReader;
  size = 0;
  flags = 0;
  structured = false;
  private pending = new Map<bigint, Pending>();
  private nextHandle = 1n;
  /** Set when the server closed the connection or the reply stream broke. */
  closedWith: Error | null = null;
  /** Replies to handles never sent (a server bug). */
  strayReplies = 0;

  constructor(readonly socket: net.Socket) {
    this.reader = new SocketReader(socket, 64 * 1024 * 1024);
    socket.on('error', () => undefined);
  }

  static async open(port: number, opts: HandshakeOptions = {}): Promise<NbdTestClient> {
    const c = new NbdTestClient(await connectSocket(port));
    await c.handshake(opts);
    return c;
  }

  async greeting(): Promise<number> {
    const g = await this.reader.read(18, 5000);
    if (g.readBigUInt64BE(0) !== C.NBDMAGIC || g.readBigUInt64BE(8) !== C.IHAVEOPT) throw new Error('bad server greeting');
    return g.readUInt16BE(16);
  }

  async optionReply(): Promise<OptionReply> {
    const h = await this.reader.read(20, 5000);
    if (h.readBigUInt64BE(0) !== C.OPTION_REPLY_MAGIC) throw new Error('bad option reply magic');
    const len = h.readUInt32BE(16);
    const data = len > 0 ? await this.reader.read(len, 5000) : Buffer.alloc(0);
    return { option: h.readUInt32BE(8), type: h.readUInt32BE(12), data };
  }

  /** Replies up to and including the final one (ACK or an error). */
  async optionReplies(): Promise<OptionReply[]> {
    const out: OptionReply[] = [];
    for (;;) {
      const r = await this.optionReply();
      out.push(r);
      if (r.type === C.REP_ACK || r.type >= 0x80000000) return out;
    }
  }

  async handshake(opts: HandshakeOptions): Promise<void> {
    await this.greeting();
    const cf = Buffer.alloc(4);
    cf.writeUInt32BE(C.FLAG_C_FIXED_NEWSTYLE | C.FLAG_C_NO_ZEROES, 0);
    this.socket.write(cf);
    const name = opts.exportName ?? '';
    if (opts.structured || opts.meta) {
      this.socket.write(optionBytes(C.OPT_STRUCTURED_REPLY));
      const r = await this.optionReplies();
      if (r[r.length - 1].type !== C.REP_ACK) throw new Error('STRUCTURED_REPLY refused');
      this.structured = true;
    }
    if (opts.meta) {
      this.socket.write(optionBytes(C.OPT_SET_META_CONTEXT, metaData(name, [C.META_BASE_ALLOCATION])));
      const r = await this.optionReplies();
      if (!r.some((x) => x.type === C.REP_META_CONTEXT)) throw new Error('base:allocation not selected');
    }
    if (opts.useExportName) {
      this.socket.write(optionBytes(C.OPT_EXPORT_NAME, Buffer.from(name, 'utf8')));
      const r = await this.reader.read(10, 5000);
      this.size = Number(r.readBigUInt64BE(0));
      this.flags = r.readUInt16BE(8);
    } else {
      this.socket.write(optionBytes(C.OPT_GO, infoData(name, [C.INFO_BLOCK_SIZE])));
      const replies = await this.optionReplies();
      const last = replies[replies.length - 1];
      if (last.type !== C.REP_ACK) throw new Error(`GO refused: 0x${last.type.toString(16)} ${last.data.toString()}`);
      for (const r of replies) {
        if (r.type === C.REP_INFO && r.data.readUInt16BE(0) === C.INFO_EXPORT) {
          this.size = Number(r.data.readBigUInt64BE(2));
          this.flags = r.data.readUInt16BE(10);
        }
      }
    }
    this.startReplyLoop();
  }

  startReplyLoop(): void {
    void this.replyLoop().catch((err: Error) => {
      this.closedWith = err;
      for (const p of this.pending.values()) p.reject(new Error(`connection ended before the reply: ${err.message}`));
      this.pending.clear();
    });
  }

  /** Registers a request sent by hand (raw bytes) so its reply is matched. */
  expect(type: number, handle: bigint, offset: number, length: number): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(handle, { type, length, offset, resolve, reject, chunks: [] });
    });
  }

  hasPending(handle: bigint): boolean {
    return this.pending.has(handle);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  request(type: number, offset: number, length: number, opts: { flags?: number; payload?: Buffer } = {}): Promise<Reply> {
    const handle = this.nextHandle++;
    const p = this.expect(type, handle, offset, length);
    this.socket.write(requestBytes(type, opts.flags ?? 0, handle, offset, length, opts.payload));
    return p;
  }

  read(offset: number, length: number, flags = 0): Promise<Reply> {
    return this.request(C.CMD_READ, offset, length, { flags });
  }

  write(offset: number, data: Buffer, flags = 0): Promise<Reply> {
    return this.request(C.CMD_WRITE, offset, data.length, { flags, payload: data });
  }

  flush(): Promise<Reply> {
    return this.request(C.CMD_FLUSH, 0, 0);
  }

  /** Sends DISC and waits for the server to close. */
  async disconnect(): Promise<void> {
    this.socket.write(requestBytes(C.CMD_DISC, 0, this.nextHandle++, 0, 0));
    this.socket.end();
    await this.closed();
  }

  closed(): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  private async replyLoop(): Promise<void> {
    for (;;) {
      const magicBuf = await this.reader.read(4);
      const magic = magicBuf.readUInt32BE(0);
      if (magic === C.SIMPLE_REPLY_MAGIC) {
        const h = await this.reader.read(12);
        const errno = h.readUInt32BE(0);
        const handle = h.readBigUInt64BE(4);
        const p = this.take(handle);
        if (!p) continue;
        if (p.type === C.CMD_READ && errno === 0) {
          const data = await this.reader.read(p.length);
          p.resolve({ errno, data: Buffer.from(data) });
        } else {
          p.resolve({ errno });
        }
      } else if (magic === C.STRUCTURED_REPLY_MAGIC) {
        const h = await this.reader.read(16);
        const flags = h.readUInt16BE(0);
        const type = h.readUInt16BE(2);
        const handle = h.readBigUInt64BE(4);
        const len = h.readUInt32BE(12);
        const payload = len > 0 ? Buffer.from(await this.reader.read(len)) : Buffer.alloc(0);
        const p = this.pending.get(handle);
        if (!p) {
          this.strayReplies++;
          continue;
        }
        this.chunk(p, type, payload);
        if (flags & C.REPLY_FLAG_DONE) {
          this.pending.delete(handle);
          const err = p.chunks[0];
          p.resolve({ errno: err?.errno ?? 0, data: p.data, extents: p.extents, message: err?.message });
        }
      } else {
        throw new Error(`bad reply magic 0x${magic.toString(16)}`);
      }
    }
  }

  private take(handle: bigint): Pending | undefined {
    const p = this.pending.get(handle);
    if (!p) this.strayReplies++;
    else this.pending.delete(handle);
    return p;
  }

  private chunk(p: Pending, type: number, payload: Buffer): void {
    if (type === C.REPLY_TYPE_OFFSET_DATA) {
      const off = Number(payload.readBigUInt64BE(0));
      p.data ??= Buffer.alloc(p.length);
      payload.copy(p.data, off - p.offset, 8);
    } else if (type === 2 /* OFFSET_HOLE */) {
      p.data ??= Buffer.alloc(p.length);
    } else if (type === C.REPLY_TYPE_BLOCK_STATUS) {
      p.extents = [];
      for (let at = 4; at + 8 <= payload.length; at += 8) p.extents.push({ length: payload.readUInt32BE(at), flags: payload.readUInt32BE(at + 4) });
    } else if (type & 0x8000) {
      const mlen = payload.readUInt16BE(4);
      p.chunks.push({ errno: payload.readUInt32BE(0), message: payload.subarray(6, 6 + mlen).toString('utf8') });
    }
  }
}
