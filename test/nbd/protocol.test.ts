// The NBD server against a hand-driven client (in-process server over simulated disks): each
// option and command, and each kind of hostile input with the answer the protocol asks for.

import { expect } from 'chai';
import * as C from '../../src/nbd/constants';
import { nbdErrnoOf } from '../../src/nbd/errno';
import { InvalidArgumentError, IoError, OutOfSpaceError, ReadOnlyError, CorruptionError, ClosedError } from '../../src/errors';
import { Prng } from '../../src/util/prng';
import { connectSocket, infoData, metaData, NbdTestClient, optionBytes, requestBytes } from '../support/nbd-client';
import { NbdRig } from '../support/nbd-rig';

const MiB = 1024 * 1024;
const VOL_BYTES = 4 * MiB;

async function rawClient(port: number): Promise<NbdTestClient> {
  const c = new NbdTestClient(await connectSocket(port));
  await c.greeting();
  return c;
}

function clientFlags(c: NbdTestClient, flags = C.FLAG_C_FIXED_NEWSTYLE | C.FLAG_C_NO_ZEROES): void {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(flags >>> 0, 0);
  c.socket.write(b);
}

function closedSoon(c: NbdTestClient, ms = 3000): Promise<boolean> {
  if (c.socket.destroyed || c.socket.readableEnded) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    const done = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    c.socket.once('end', done);
    c.socket.once('close', done);
  });
}

describe('nbd protocol', function () {
  this.timeout(30_000);
  let rig: NbdRig;

  beforeEach(async () => {
    rig = await NbdRig.create([['vol0', VOL_BYTES], ['second', 1 * MiB]], { limits: { requestBodyTimeoutMs: 300, handshakeTimeoutMs: 2000, shutdownGraceMs: 2000 } });
  });

  afterEach(async () => {
    await rig.close();
  });

  describe('handshake', () => {
    it('greets with fixed newstyle and NO_ZEROES; unknown client flags close the connection', async () => {
      const c = new NbdTestClient(await connectSocket(rig.port));
      expect(await c.greeting()).to.equal(C.FLAG_FIXED_NEWSTYLE | C.FLAG_NO_ZEROES);
      clientFlags(c, 0x80);
      expect(await closedSoon(c)).to.equal(true);
      expect(rig.log.count(/warn .*protocol violation.*unknown client flags/)).to.equal(1);
    });

    it('bad option magic closes; a truncated option header is logged and closed', async () => {
      const c = await rawClient(rig.port);
      clientFlags(c);
      const bad = optionBytes(C.OPT_LIST);
      bad[0] ^= 0xff;
      c.socket.write(bad);
      expect(await closedSoon(c)).to.equal(true);
      const d = await rawClient(rig.port);
      clientFlags(d);
      d.socket.end(optionBytes(C.OPT_LIST).subarray(0, 9));
      expect(await closedSoon(d)).to.equal(true);
      await new Promise((r) => setTimeout(r, 50));
      expect(rig.log.count(/warn .*protocol violation.*bad option magic/)).to.equal(1);
      expect(rig.log.count(/warn .*client left mid-message/)).to.equal(1);
    });

    it('unknown options get ERR_UNSUP, oversized ones ERR_TOO_BIG (payload skipped), and GO still works', async () => {
      const c = await rawClient(rig.port);
      clientFlags(c);
      c.socket.write(optionBytes(99, Buffer.from('junk')));
      expect((await c.optionReply()).type).to.equal(C.REP_ERR_UNSUP);
      c.socket.write(optionBytes(C.OPT_STARTTLS));
      expect((await c.optionReply()).type).to.equal(C.REP_ERR_UNSUP);
      c.socket.write(optionBytes(C.OPT_INFO, Buffer.alloc(C.OPTION_BYTES_MAX + 5)));
      expect((await c.optionReply()).type).to.equal(C.REP_ERR_TOO_BIG);
      c.socket.write(optionBytes(C.OPT_GO, infoData('vol0', [C.INFO_NAME, C.INFO_DESCRIPTION, C.INFO_BLOCK_SIZE])));
      const replies = await c.optionReplies();
      expect(replies[replies.length - 1].type).to.equal(C.REP_ACK);
      const infos = new Map(replies.filter((r) => r.type === C.REP_INFO).map((r) => [r.data.readUInt16BE(0), r.data]));
      expect(Number(infos.get(C.INFO_EXPORT)!.readBigUInt64BE(2))).to.equal(VOL_BYTES);
      const flags = infos.get(C.INFO_EXPORT)!.readUInt16BE(10);
      expect(flags).to.equal(C.TFLAG_HAS_FLAGS | C.TFLAG_SEND_FLUSH | C.TFLAG_SEND_FUA | C.TFLAG_SEND_TRIM | C.TFLAG_SEND_WRITE_ZEROES | C.TFLAG_CAN_MULTI_CONN);
      expect(infos.get(C.INFO_NAME)!.subarray(2).toString()).to.equal('vol0');
      const bs = infos.get(C.INFO_BLOCK_SIZE)!;
      expect([bs.readUInt32BE(2), bs.readUInt32BE(6), bs.readUInt32BE(10)]).to.deep.equal([1, 4096, C.PAYLOAD_BYTES_MAX]);
      c.startReplyLoop();
      expect((await c.read(0, 512)).errno).to.equal(0);
      await c.disconnect();
    });

    it('LIST, INFO and meta contexts: valid and malformed data', async () => {
      const c = await rawClient(rig.port);
      clientFlags(c);
      c.socket.write(optionBytes(C.OPT_LIST));
      const list = await c.optionReplies();
      expect(list.filter((r) => r.type === C.REP_SERVER).map((r) => r.data.subarray(4, 4 + r.data.readUInt32BE(0)).toString())).to.deep.equal(['vol0', 'second']);
      c.socket.write(optionBytes(C.OPT_LIST, Buffer.from('x')));
      expect((await c.optionReply()).type).to.equal(C.REP_ERR_INVALID);
      c.socket.write(optionBytes(C.OPT_INFO, infoData('nope')));
      expect((await c.optionReply()).type).to.equal(C.REP_ERR_UNKNOWN);
      const truncated = infoData('vol0', [1, 2]).subarray(0, 9);
      c.socket.write(optionBytes(C.OPT_INFO, truncated));
      expect((await c.optionReply()).type).to.equal(C.REP_ERR_INVALID);
      const hugeName = Buffer.alloc(8);
      hugeName.writeUInt32BE(0xffffffff, 0);
      c.socket.write(optionBytes(C.OPT_GO, hugeName));
      expect((await c.optionReply()).type).to.equal(C.REP_ERR_INVALID);
      c.socket.write(optionBytes(C.OPT_SET_META_CONTEXT, metaData('vol0', ['base:allocation'])));
      expect((await c.optionReply()).type, 'meta contexts need structured replies').to.equal(C.REP_ERR_INVALID);
      c.socket.write(optionBytes(C.OPT_STRUCTURED_REPLY, Buffer.from('x')));
      expect((await c.optionReply()).type).to.equal(C.REP_ERR_INVALID);
      c.socket.write(optionBytes(C.OPT_STRUCTURED_REPLY));
      expect((await c.optionReply()).type).to.equal(C.REP_ACK);
      c.socket.write(optionBytes(C.OPT_LIST_META_CONTEXT, metaData('vol0', [])));
      const listed = await c.optionReplies();
      expect(listed.map((r) => r.type)).to.deep.equal([C.REP_META_CONTEXT, C.REP_ACK]);
      expect(listed[0].data.subarray(4).toString()).to.equal('base:allocation');
      c.socket.write(optionBytes(C.OPT_LIST_META_CONTEXT, metaData('vol0', ['qemu:dirty-bitmap:x'])));
      expect((await c.optionReplies()).map((r) => r.type)).to.deep.equal([C.REP_ACK]);
      const badMeta = metaData('vol0', ['base:allocation']);
      badMeta.writeUInt32BE(999, 8); // query count larger than what follows
      c.socket.write(optionBytes(C.OPT_SET_META_CONTEXT, badMeta));
      expect((await c.optionReply()).type).to.be.oneOf([C.REP_ERR_INVALID, C.REP_ERR_TOO_BIG]);
      c.socket.write(optionBytes(C.OPT_SET_META_CONTEXT, metaData('vol0', ['base:allocation'])));
      const set = await c.optionReplies();
      expect(set.map((r) => r.type)).to.deep.equal([C.REP_META_CONTEXT, C.REP_ACK]);
      expect(set[0].data.readUInt32BE(0)).to.equal(C.META_BASE_ALLOCATION_ID);
      c.socket.write(optionBytes(C.OPT_GO, infoData('vol0')));
      const go = await c.optionReplies();
      expect(go[0].data.readUInt16BE(10) & C.TFLAG_SEND_DF).to.equal(C.TFLAG_SEND_DF);
      c.startReplyLoop();
      const bs = await c.request(C.CMD_BLOCK_STATUS, 0, VOL_BYTES);
      expect(bs.errno).to.equal(0);
      expect(bs.extents).to.deep.equal([{ length: VOL_BYTES, flags: C.STATE_HOLE | C.STATE_ZERO }]);
      await c.disconnect();
    });

    it('EXPORT_NAME: a known name enters transmission (no zero padding), an unknown one closes', async () => {
      const c = await NbdTestClient.open(rig.port, { exportName: 'second', useExportName: true });
      expect(c.size).to.equal(1 * MiB);
      expect((await c.write(100, Buffer.from('hello'))).errno).to.equal(0);
      expect((await c.read(100, 5)).data!.toString()).to.equal('hello');
      await c.disconnect();
      const d = await rawClient(rig.port);
      clientFlags(d);
      d.socket.write(optionBytes(C.OPT_EXPORT_NAME, Buffer.from('missing')));
      expect(await closedSoon(d)).to.equal(true);
    });

    it('ABORT gets an ACK and the connection ends; a silent client times out', async () => {
      const c = await rawClient(rig.port);
      clientFlags(c);
      c.socket.write(optionBytes(C.OPT_ABORT));
      expect((await c.optionReply()).type).to.equal(C.REP_ACK);
      expect(await closedSoon(c)).to.equal(true);
      const d = await rawClient(rig.port);
      expect(await closedSoon(d, 4000), 'handshake timeout').to.equal(true);
    });
  });

  describe('transmission', () => {
    it('each hostile request gets its errno and the connection keeps serving', async () => {
      const c = await NbdTestClient.open(rig.port, { exportName: 'vol0' });
      const size = VOL_BYTES;
      expect((await c.read(size - 10, 11)).errno, 'read past the end').to.equal(C.NBD_EINVAL);
      expect((await c.write(size - 2, Buffer.alloc(3, 1))).errno, 'write past the end').to.equal(C.NBD_ENOSPC);
      expect((await c.request(C.CMD_TRIM, size, 1)).errno).to.equal(C.NBD_ENOSPC);
      expect((await c.request(C.CMD_WRITE_ZEROES, 0, 1, { flags: C.CMD_FLAG_NO_HOLE | C.CMD_FLAG_DF })).errno, 'DF on zeroes').to.equal(C.NBD_EINVAL);
      expect((await c.read(0, C.PAYLOAD_BYTES_MAX + 1)).errno, 'oversized read').to.equal(C.NBD_EOVERFLOW);
      expect((await c.write(0, Buffer.alloc(C.PAYLOAD_BYTES_MAX + 1, 7))).errno, 'oversized write').to.equal(C.NBD_EOVERFLOW);
      expect((await c.request(42, 0, 512)).errno, 'unknown command').to.equal(C.NBD_EINVAL);
      expect((await c.read(0, 512, 0x40)).errno, 'unknown flag').to.equal(C.NBD_EINVAL);
      expect((await c.read(0, 512, C.CMD_FLAG_DF)).errno, 'DF without structured replies').to.equal(C.NBD_EINVAL);
      expect((await c.write(0, Buffer.alloc(512, 9), C.CMD_FLAG_REQ_ONE)).errno, 'flag of another command').to.equal(C.NBD_EINVAL);
      expect((await c.request(C.CMD_BLOCK_STATUS, 0, 512)).errno, 'no meta context').to.equal(C.NBD_EINVAL);
      expect((await c.read(0, 0)).errno, 'zero length').to.equal(C.NBD_EINVAL);
      expect((await c.request(C.CMD_FLUSH, 1, 0)).errno, 'flush with an offset').to.equal(C.NBD_EINVAL);
      expect((await c.read(0, 512)).errno, 'still serving').to.equal(0);
      const h = 0xfeedn;
      const r = c.expect(C.CMD_READ, h, 0, 16);
      c.socket.write(requestBytes(C.CMD_READ, 0, h, 0xffffffffffffff00n, 16));
      expect((await r).errno, '64-bit offset').to.equal(C.NBD_EINVAL);
      // none of the refused writes changed anything
      const all = await c.read(0, size);
      expect(all.data!.equals(Buffer.alloc(size))).to.equal(true);
      expect(rig.log.count(/request failed/)).to.be.greaterThan(10);
      await c.disconnect();
    });

    it('structured replies: reads as one data chunk, errors as error chunks with a message', async () => {
      const c = await NbdTestClient.open(rig.port, { exportName: 'vol0', meta: true });
      expect((await c.write(4095, Buffer.from('abc'))).errno).to.equal(0);
      const r = await c.read(4094, 5, C.CMD_FLAG_DF);
      expect(r.data).to.deep.equal(Buffer.from([0, 0x61, 0x62, 0x63, 0]));
      const e = await c.read(VOL_BYTES, 1);
      expect(e.errno).to.equal(C.NBD_EINVAL);
      expect(e.message).to.match(/past the end/);
      const one = await c.request(C.CMD_BLOCK_STATUS, 0, VOL_BYTES, { flags: C.CMD_FLAG_REQ_ONE });
      expect(one.extents).to.deep.equal([{ length: 8192, flags: 0 }]);
      await c.disconnect();
    });

    it('bad request magic closes the connection; the data is unchanged', async () => {
      const c = await NbdTestClient.open(rig.port, { exportName: 'vol0' });
      const bad = requestBytes(C.CMD_WRITE, 0, 1n, 0, 512, Buffer.alloc(512, 0xee));
      bad[1] ^= 1;
      c.socket.write(bad);
      expect(await closedSoon(c)).to.equal(true);
      expect((await rig.volume('vol0').read(0, 512)).equals(Buffer.alloc(512))).to.equal(true);
      expect(rig.log.count(/warn .*protocol violation.*bad request magic/)).to.equal(1);
    });

    it('a write whose payload never arrives, or is cut by a disconnect, changes nothing', async () => {
      const c = await NbdTestClient.open(rig.port, { exportName: 'vol0' });
      const w = requestBytes(C.CMD_WRITE, 0, 5n, 8192, 4096, Buffer.alloc(4096, 0xcd));
      c.socket.write(w.subarray(0, 28 + 1000)); // and then silence
      expect(await closedSoon(c, 3000), 'closed after the body timeout').to.equal(true);
      const d = await NbdTestClient.open(rig.port, { exportName: 'vol0' });
      d.socket.write(w.subarray(0, 28 + 4095));
      d.socket.destroy();
      await new Promise((r) => setTimeout(r, 100));
      expect((await rig.volume('vol0').read(8192, 4096)).equals(Buffer.alloc(4096))).to.equal(true);
      expect(rig.log.count(/warn .*payload incomplete/)).to.equal(2);
      // a header cut short and then silence: closed after the body timeout, not held forever
      const e = await NbdTestClient.open(rig.port, { exportName: 'vol0' });
      e.socket.write(w.subarray(0, 11));
      expect(await closedSoon(e, 3000)).to.equal(true);
      expect(rig.log.count(/warn .*client too slow.*11 of 28/)).to.equal(1);
    });

    it('many requests in flight on one connection, replies matched by handle', async () => {
      const c = await NbdTestClient.open(rig.port, { exportName: 'vol0', structured: true });
      const rng = new Prng(9);
      const blocks = Array.from({ length: 200 }, (_, i) => ({ off: i * 12_345, data: rng.fill(Buffer.alloc(rng.range(1, 12_345))) }));
      const writes = await Promise.all(blocks.map((b) => c.write(b.off, b.data, rng.chance(0.1) ? C.CMD_FLAG_FUA : 0)));
      expect(writes.every((w) => w.errno === 0)).to.equal(true);
      const reads = await Promise.all(blocks.map((b) => c.read(b.off, b.data.length)));
      reads.forEach((r, i) => expect(r.data!.equals(blocks[i].data), `block ${i}`).to.equal(true));
      expect(c.strayReplies).to.equal(0);
      await c.disconnect();
    });

    it('read-only export: writes, trims and zeroing get EPERM, reads work', async () => {
      await rig.server.shutdown();
      await rig.start({ readOnly: true });
      const c = await NbdTestClient.open(rig.port, { exportName: 'vol0' });
      expect(c.flags & C.TFLAG_READ_ONLY).to.equal(C.TFLAG_READ_ONLY);
      expect(c.flags & (C.TFLAG_SEND_TRIM | C.TFLAG_SEND_WRITE_ZEROES)).to.equal(0);
      expect((await c.write(0, Buffer.alloc(10, 1))).errno).to.equal(C.NBD_EPERM);
      expect((await c.request(C.CMD_TRIM, 0, 4096)).errno).to.equal(C.NBD_EPERM);
      expect((await c.request(C.CMD_WRITE_ZEROES, 0, 4096)).errno).to.equal(C.NBD_EPERM);
      expect((await c.read(0, 10)).errno).to.equal(0);
      expect((await c.flush()).errno).to.equal(0);
      await c.disconnect();
    });
  });

  describe('durability across connections', () => {
    it('a flush on one connection makes writes acknowledged on another durable (multi-conn); FUA alone too', async () => {
      const rng = new Prng(31);
      const a = await NbdTestClient.open(rig.port, { exportName: 'vol0' });
      const b = await NbdTestClient.open(rig.port, { exportName: 'vol0' });
      const d1 = rng.fill(Buffer.alloc(10_000));
      const d2 = rng.fill(Buffer.alloc(5_000));
      expect((await a.write(1000, d1)).errno).to.equal(0);
      expect((await b.flush()).errno).to.equal(0);
      expect((await b.write(600_000, d2, C.CMD_FLAG_FUA)).errno).to.equal(0);
      await rig.crashAndReopen(rng);
      const v = rig.volume('vol0');
      expect((await v.read(1000, d1.length)).equals(d1)).to.equal(true);
      expect((await v.read(600_000, d2.length)).equals(d2)).to.equal(true);
    });

    it('shutdown finishes in-flight requests, answers them, then flushes', async () => {
      const c = await NbdTestClient.open(rig.port, { exportName: 'vol0' });
      const data = Buffer.alloc(256 * 1024, 0x42);
      const first = await c.write(0, data);
      expect(first.errno).to.equal(0);
      const pending = Array.from({ length: 16 }, (_, i) => c.write((i + 1) * data.length, data));
      const settled = Promise.allSettled(pending);
      await new Promise((r) => setTimeout(r, 5));
      await rig.server.shutdown();
      const results = await settled;
      expect(await closedSoon(c)).to.equal(true);
      await rig.crashAndReopen(new Prng(5));
      const v = rig.volume('vol0');
      expect((await v.read(0, data.length)).equals(data)).to.equal(true);
      for (let i = 0; i < results.length; i++) {
        const r = results[i];
        if (r.status !== 'fulfilled') continue; // never read by the server before it stopped
        expect(r.value.errno, `write ${i}`).to.equal(0);
        expect((await v.read((i + 1) * data.length, data.length)).equals(data), `write ${i} durable`).to.equal(true);
      }
    });
  });

  it('errno mapping: one function, the protocol values', () => {
    expect(nbdErrnoOf(new ReadOnlyError('x'))).to.equal(C.NBD_EPERM);
    expect(nbdErrnoOf(new OutOfSpaceError('x'))).to.equal(C.NBD_ENOSPC);
    expect(nbdErrnoOf(new InvalidArgumentError('x'))).to.equal(C.NBD_EINVAL);
    expect(nbdErrnoOf(new InvalidArgumentError('x', { nbd: 'too-large' }))).to.equal(C.NBD_EOVERFLOW);
    expect(nbdErrnoOf(new InvalidArgumentError('x', { nbd: 'past-end-write' }))).to.equal(C.NBD_ENOSPC);
    expect(nbdErrnoOf(new ClosedError('x', { nbd: 'shutdown' }))).to.equal(C.NBD_ESHUTDOWN);
    expect(nbdErrnoOf(new IoError('x', {}, Object.assign(new Error('full'), { code: 'ENOSPC' })))).to.equal(C.NBD_ENOSPC);
    expect(nbdErrnoOf(new IoError('x'))).to.equal(C.NBD_EIO);
    expect(nbdErrnoOf(new CorruptionError('x'))).to.equal(C.NBD_EIO);
    expect(nbdErrnoOf(new Error('bug'))).to.equal(C.NBD_EIO);
  });
});
