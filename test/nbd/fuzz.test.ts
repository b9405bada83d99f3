// Protocol fuzz: thousands of random and mutated handshakes and requests from one seeded
// generator, against a live in-process server, while a well-behaved client keeps working on
// another export. Checks: the server never crashes or hangs; every in-step request succeeds
// exactly when the protocol says it must; bytes of the fuzzed export outside acknowledged
// (or possibly applied) valid writes keep their initial pattern; the good client's export
// equals its model. Replay with LSA_SEED=<seed> npm test -- fuzz.

import { expect } from 'chai';
import * as C from '../../src/nbd/constants';
import { Prng } from '../../src/util/prng';
import { connectSocket, NbdTestClient } from '../support/nbd-client';
import { encodeRequest, mutate, randomHandshake, randomRequest, shouldSucceed, WRITE_TYPES, type FuzzRequest } from '../support/nbd-fuzz';
import { NbdRig } from '../support/nbd-rig';
import { VolumeModel, firstDiff } from '../support/model';
import { seedFrom } from '../support/tmp';

const MiB = 1024 * 1024;
const FUZZ_BYTES = 4 * MiB;
const GOOD_BYTES = 2 * MiB;
const CASES = Number(process.env.LSA_FUZZ_CASES ?? 2000);
const PARALLEL = 12;
const LIMITS = { handshakeTimeoutMs: 400, requestBodyTimeoutMs: 200, shutdownGraceMs: 2000 };
const PAYLOAD_SENT_MAX = 256 * 1024;

interface Findings {
  failures: string[];
  allowed: [number, number][];
  requests: number;
  mutated: number;
  handshakes: number;
}

function timeout(ms: number): Promise<'timeout'> {
  return new Promise((r) => setTimeout(() => r('timeout'), ms));
}

function closedPromise(sock: import('node:net').Socket): Promise<void> {
  if (sock.destroyed) return Promise.resolve();
  return new Promise((r) => sock.once('close', () => r()));
}

async function handshakeCase(rng: Prng, port: number, f: Findings, tag: string): Promise<void> {
  f.handshakes++;
  const sock = await connectSocket(port);
  sock.on('error', () => undefined);
  sock.on('data', () => undefined);
  const closed = closedPromise(sock);
  const bytes = randomHandshake(rng, ['fuzz', 'good', '']);
  const cut = rng.int(bytes.length + 1);
  sock.write(bytes.subarray(0, cut));
  sock.write(bytes.subarray(cut));
  const ending = rng.int(10);
  if (ending < 8) {
    sock.end();
    if ((await Promise.race([closed, timeout(3000)])) === 'timeout') {
      f.failures.push(`${tag}: server did not close a handshake connection within 3 s after the client's EOF`);
      sock.destroy();
    }
  } else if (ending === 8) {
    sock.destroy();
  } else {
    // silent: the handshake timeout closes it (unless it reached transmission, which may idle)
    if ((await Promise.race([closed, timeout(LIMITS.handshakeTimeoutMs + 300)])) === 'timeout') sock.destroy();
  }
}

/** The request fields the server will decode from `wire`, if it holds a whole header. */
function decode(wire: Buffer): (FuzzRequest & { magicOk: boolean }) | null {
  if (wire.length < 28) return null;
  const type = wire.readUInt16BE(6);
  const length = wire.readUInt32BE(24);
  return {
    magicOk: wire.readUInt32BE(0) === C.REQUEST_MAGIC,
    flags: wire.readUInt16BE(4),
    type,
    offset: wire.readBigUInt64BE(16),
    length,
    payloadBytes: type === C.CMD_WRITE ? length : 0,
  };
}

function mutateHeader(rng: Prng, msg: Buffer): Buffer {
  if (rng.chance(0.3)) return msg.subarray(0, rng.int(msg.length)); // cut short
  const out = Buffer.from(msg);
  for (let n = rng.range(1, 3); n > 0; n--) {
    const fields = [0, 4, 6, 16, 24]; // magic, flags, type, offset, length: never the handle
    const at = rng.pick(fields);
    if (at === 16) out.writeBigUInt64BE(rng.pick([0n, 2n ** 63n, 2n ** 64n - 1n, BigInt(rng.u32())]), 16);
    else if (at === 4 || at === 6) out.writeUInt16BE(rng.int(0x10000), at);
    else out.writeUInt32BE(rng.chance(0.5) ? rng.u32() : (out.readUInt32BE(at) ^ (1 << rng.int(32))) >>> 0, at);
  }
  // sometimes damage the payload too (a cut or insertion puts the stream out of step)
  if (out.length > 28 && rng.chance(0.2)) return Buffer.concat([out.subarray(0, 28), mutate(rng, out.subarray(28), 1)]);
  return out;
}

async function transmissionCase(rng: Prng, port: number, f: Findings, tag: string): Promise<void> {
  const structured = rng.chance(0.6);
  const meta = structured && rng.chance(0.7);
  const c = await NbdTestClient.open(port, { exportName: rng.chance(0.3) ? '' : 'fuzz', structured, meta, useExportName: rng.chance(0.2) });
  const closed = closedPromise(c.socket);
  const shape = { sizeBytes: c.size, structured, baseAllocation: meta };
  const settled: Promise<void>[] = [];
  let inStep = true;
  let handle = 1n;
  for (let i = 0, n = rng.range(1, 24); i < n && inStep; i++) {
    const r = randomRequest(rng, c.size);
    const h = handle++;
    const payload = r.type === C.CMD_WRITE ? rng.fill(Buffer.alloc(Math.min(r.length, PAYLOAD_SENT_MAX))) : null;
    let wire = encodeRequest(r, h, payload);
    if (rng.chance(0.15)) {
      wire = mutateHeader(rng, wire);
      f.mutated++;
    }
    f.requests++;
    const d = decode(wire);
    const sentPayload = wire.length - 28;
    if (!d || !d.magicOk || d.type === C.CMD_DISC || sentPayload !== d.payloadBytes) inStep = false;
    if (d && d.magicOk && d.type !== C.CMD_DISC && sentPayload >= d.payloadBytes) {
      const valid = shouldSucceed(d, shape);
      const range: [number, number] | null = valid && WRITE_TYPES.has(d.type) ? [Number(d.offset), Number(d.offset) + d.length] : null;
      const what = `${tag} request ${i} type ${d.type} flags 0x${d.flags.toString(16)} offset ${d.offset} length ${d.length}`;
      settled.push(c.expect(d.type, h, Number(d.offset), d.length).then(
        (reply) => {
          if ((reply.errno === 0) !== valid) f.failures.push(`${what}: errno ${reply.errno}, but the protocol says it should ${valid ? 'succeed' : 'fail'}`);
          if (range && reply.errno === 0) f.allowed.push(range);
        },
        () => {
          if (range) f.allowed.push(range); // no reply seen: it may still have been applied
        },
      ));
    }
    c.socket.write(wire);
    if (rng.chance(0.15)) await Promise.all(settled);
  }
  const ending = rng.int(10);
  if (inStep && ending < 5) c.socket.end(encodeRequest({ type: C.CMD_DISC, flags: 0, offset: 0n, length: 0, payloadBytes: 0 }, 0n, null));
  else if (ending < 8) c.socket.end();
  else if (ending < 9) c.socket.destroy();
  const done = Promise.all([...settled, closed]);
  const waitMs = ending === 9 ? LIMITS.requestBodyTimeoutMs + 300 : 5000;
  if ((await Promise.race([done, timeout(waitMs)])) === 'timeout') {
    if (ending !== 9) f.failures.push(`${tag}: no replies or close within ${waitMs} ms (pending ${c.pendingCount})`);
    c.socket.destroy();
    await Promise.race([done, timeout(2000)]);
  }
  if (c.strayReplies > 0) f.failures.push(`${tag}: ${c.strayReplies} replies to handles never sent`);
}

/** The well-behaved client: disjoint batches of writes, reads, trims, zeroes, flushes. */
async function goodClient(port: number, rng: Prng, model: VolumeModel, stop: () => boolean, failures: string[]): Promise<number> {
  const c = await NbdTestClient.open(port, { exportName: 'good', structured: true, meta: true });
  const slots = 64;
  const slotBytes = GOOD_BYTES / slots;
  let ops = 0;
  while (!stop() && failures.length === 0) {
    const used = new Set<number>();
    const batch: Promise<void>[] = [];
    for (let k = rng.range(1, 8); k > 0; k--) {
      const slot = rng.int(slots);
      if (used.has(slot)) continue;
      used.add(slot);
      const off = slot * slotBytes + rng.int(slotBytes - 1);
      const len = rng.range(1, slot * slotBytes + slotBytes - off);
      const kind = rng.int(10);
      ops++;
      const check = (what: string) => (r: { errno: number }): void => {
        if (r.errno !== 0) failures.push(`good client: ${what} ${off}+${len} failed with errno ${r.errno}`);
      };
      if (kind < 4) {
        const data = rng.fill(Buffer.alloc(len));
        model.write(off, data);
        batch.push(c.write(off, data, rng.chance(0.2) ? C.CMD_FLAG_FUA : 0).then(check('write')));
      } else if (kind < 7) {
        const want = model.read(off, len);
        batch.push(c.read(off, len).then((r) => {
          check('read')(r);
          const d = r.data ? firstDiff(r.data, want) : 0;
          if (d >= 0) failures.push(`good client: read ${off}+${len} differs from the model at byte ${off + d}`);
        }));
      } else if (kind === 7) {
        model.zero(off, len);
        batch.push(c.request(C.CMD_TRIM, off, len).then(check('trim')));
      } else if (kind === 8) {
        model.zero(off, len);
        batch.push(c.request(C.CMD_WRITE_ZEROES, off, len, { flags: rng.chance(0.5) ? C.CMD_FLAG_NO_HOLE : 0 }).then(check('write-zeroes')));
      } else {
        batch.push(c.flush().then(check('flush')));
      }
    }
    await Promise.all(batch);
    await new Promise((r) => setTimeout(r, 1)); // share the CPU with the fuzzers
  }
  const all = await c.read(0, GOOD_BYTES);
  const d = all.data ? firstDiff(all.data, model.read(0, GOOD_BYTES)) : 0;
  if (d >= 0) failures.push(`good client: the export differs from the model at byte ${d}`);
  const bs = await c.request(C.CMD_BLOCK_STATUS, 0, GOOD_BYTES);
  if (bs.errno !== 0 || bs.extents!.reduce((s, e) => s + e.length, 0) !== GOOD_BYTES) failures.push('good client: block status does not cover the export');
  await c.disconnect();
  return ops;
}

describe('nbd protocol fuzz', function () {
  this.timeout(240_000);

  it(`${CASES} random and mutated connections: no crash, no hang, no stray change, a good client served alongside`, async () => {
    const seed = seedFrom(20261126);
    console.log(`      seed ${seed} (replay: LSA_SEED=${seed} npm test -- fuzz)`);
    const rng = new Prng(seed);
    const rig = await NbdRig.create([['fuzz', FUZZ_BYTES], ['good', GOOD_BYTES]], { limits: LIMITS });
    try {
      const pattern = new Prng(seed ^ 0x5a5a5a5a).fill(Buffer.alloc(FUZZ_BYTES));
      await rig.volume('fuzz').write(0, pattern);
      await rig.engine.flush();
      const f: Findings = { failures: [], allowed: [], requests: 0, mutated: 0, handshakes: 0 };
      let fuzzing = true;
      const good = goodClient(rig.port, new Prng(seed + 1), new VolumeModel(GOOD_BYTES), () => !fuzzing, f.failures);
      let next = 0;
      const worker = async (w: number): Promise<void> => {
        const wrng = new Prng(rng.u32() ^ w);
        while (next < CASES && f.failures.length === 0) {
          const i = next++;
          const tag = `seed ${seed} worker ${w} case ${i}`;
          if (process.env.LSA_FUZZ_TRACE) console.log(`start ${tag}`);
          if (wrng.chance(0.4)) await handshakeCase(wrng, rig.port, f, tag);
          else await transmissionCase(wrng, rig.port, f, tag);
        }
      };
      try {
        await Promise.all(Array.from({ length: PARALLEL }, (_, w) => worker(w)));
      } finally {
        fuzzing = false;
      }
      const goodOps = await good;
      console.log(`      ${f.handshakes} handshakes, ${f.requests} requests (${f.mutated} mutated), good client ${goodOps} ops, ${rig.log.lines.length} log lines`);
      expect(f.failures.slice(0, 10), f.failures.slice(0, 10).join('\n')).to.deep.equal([]);

      const mask = new Uint8Array(FUZZ_BYTES);
      for (const [a, b] of f.allowed) mask.fill(1, a, b);
      const now = await rig.volume('fuzz').read(0, FUZZ_BYTES);
      let changedOutside = -1;
      for (let i = 0; i < FUZZ_BYTES; i++) {
        if (mask[i] === 0 && now[i] !== pattern[i]) {
          changedOutside = i;
          break;
        }
      }
      expect(changedOutside, `seed ${seed}: byte ${changedOutside} changed though no valid write covered it`).to.equal(-1);
      expect(rig.log.count(/connection crashed|internal error|assertion failed/), rig.log.lines.filter((l) => /crashed|internal|assertion/.test(l)).slice(0, 3).join('')).to.equal(0);
      expect(rig.log.count(/warn .*(request failed|protocol violation|option refused)/)).to.be.greaterThan(100);
      // still serving
      const c = await NbdTestClient.open(rig.port, { exportName: 'fuzz' });
      expect((await c.read(0, 4096)).errno).to.equal(0);
      await c.disconnect();
    } finally {
      await rig.close();
    }
  });
});
