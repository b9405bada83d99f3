// Remote copy between two `lsa serve` processes on loopback, with an in-test proxy between
// them: random writes over NBD with a live secondary, then one fault per test (link cut,
// SIGKILL of either side, corrupted frames, a replayed frame, a stuck secondary, a wrong key,
// a volume of another capacity). After each the pair must come back to duplex by itself (or
// after the operator's fix, for the refusals), with every acknowledged write on both and the
// volumes byte-equal after a clean stop.

import { expect } from 'chai';
import * as fs from 'node:fs';
import { Prng } from '../../src/util/prng';
import { auditPrimary, expectEqualAfterStop, expectMirrored } from '../support/replication-checks';
import { PAIR_LINK_TIMEOUT_MS, PAIR_VOLUME_BYTES, ProcessPair, type PairOptions } from '../support/replication-pair';
import { PairWriter } from '../support/replication-writer';
import { seedFrom, tmpDir } from '../support/tmp';
import { MAIN_JS, runAsync } from '../support/serve-process';

const TRACK_BYTES = 4096;

describe('replication between processes', function () {
  this.timeout(90_000);
  let t: ReturnType<typeof tmpDir>;
  let pair: ProcessPair | null = null;
  let writer: PairWriter | null = null;

  afterEach(async function () {
    writer?.drop();
    writer = null;
    if (pair) {
      // LSA_TEST_LOGS=1 prints both processes' logs after every test
      if (this.currentTest?.state === 'failed' || process.env.LSA_TEST_LOGS) console.log(pair.logs());
      await pair.killAll();
    }
    pair = null;
    t.cleanup();
  });

  /** Both processes up, the writer connected, some data written and mirrored. */
  async function setUp(opts: PairOptions, seed: number): Promise<{ p: ProcessPair; w: PairWriter; rng: Prng }> {
    t = tmpDir('lsa-rep-proc-');
    const p = await ProcessPair.create(t.dir, opts);
    pair = p;
    await p.start();
    const w = new PairWriter(PAIR_VOLUME_BYTES, TRACK_BYTES);
    writer = w;
    await w.connect(p.primary!.port);
    const rng = new Prng(seed);
    await w.run(rng, 300);
    await expectMirrored(p, w, `seed ${seed}: first copy`);
    return { p, w, rng };
  }

  for (const mode of ['sync', 'async'] as const) {
    it(`${mode}: writes over NBD reach the live secondary; after SIGTERM of both the volumes are byte-equal`, async () => {
      const seed = seedFrom(601);
      const { p, w, rng } = await setUp({ mode }, seed);
      await w.run(rng, 600, { depth: 32 });
      await auditPrimary(w, false, `seed ${seed}`);
      await expectMirrored(p, w, `seed ${seed}`);
      const cli = p.statusCli();
      expect(cli[0]).to.include({ volume: 'vol0', state: 'duplex', lagSeq: 0, error: null });
      expect(cli[0].bytesShipped).to.be.above(0);
      await expectEqualAfterStop(p, w, `seed ${seed}`);
    });
  }

  it('the link is cut mid-stream, again and again: back to duplex by itself', async () => {
    const seed = seedFrom(602);
    const { p, w, rng } = await setUp({ mode: 'sync' }, seed);
    for (let round = 0; round < 3; round++) {
      const writes = w.run(rng, 200);
      await new Promise((r) => setTimeout(r, 20 + rng.int(80)));
      p.proxy.cut();
      expect((await writes).broken).to.equal(false);
      await auditPrimary(w, false, `seed ${seed} round ${round}`);
      await expectMirrored(p, w, `seed ${seed} round ${round}`);
    }
    await expectEqualAfterStop(p, w, `seed ${seed}`);
  });

  it('the secondary is killed (SIGKILL) mid-stream and restarted: back to duplex, nothing lost', async () => {
    const seed = seedFrom(603);
    const { p, w, rng } = await setUp({ mode: 'sync' }, seed);
    const writes = w.run(rng, 400);
    await new Promise((r) => setTimeout(r, 50 + rng.int(100)));
    await p.stopSecondary('SIGKILL');
    expect((await writes).broken, 'host writes go on while the secondary is down').to.equal(false);
    await p.waitState('suspended', (s) => s.volumes[0].state === 'suspended');
    await w.run(rng, 100);
    await p.startSecondary();
    await auditPrimary(w, false, `seed ${seed}`);
    await expectMirrored(p, w, `seed ${seed}`);
    await expectEqualAfterStop(p, w, `seed ${seed}`);
  });

  it('the primary is killed (SIGKILL) mid-stream and restarted: flushed writes on both, back to duplex', async () => {
    const seed = seedFrom(604);
    const { p, w, rng } = await setUp({ mode: 'sync' }, seed);
    const writes = w.run(rng, 2000, { flushChance: 0.5 });
    await new Promise((r) => setTimeout(r, 100 + rng.int(200)));
    await p.stopPrimary('SIGKILL');
    const r = await writes;
    expect(r.broken, 'the kill landed while writes were in flight').to.equal(true);
    w.drop();
    await p.startPrimary();
    await w.connect(p.primary!.port);
    await auditPrimary(w, true, `seed ${seed}`);
    await expectMirrored(p, w, `seed ${seed}: after the restart`);
    await w.run(rng, 200);
    await expectMirrored(p, w, `seed ${seed}: after more writes`);
    await expectEqualAfterStop(p, w, `seed ${seed}`);
  });

  it('corrupted frames are refused (CRC), logged, and the pair comes back by itself', async () => {
    const seed = seedFrom(605);
    const { p, w, rng } = await setUp({ mode: 'sync' }, seed);
    for (let round = 0; round < 3; round++) {
      let left = 1;
      p.proxy.tamper = (d) => {
        if (left === 0 || d.length < 64) return d;
        left--;
        const x = Buffer.from(d);
        x[20 + rng.int(d.length - 20)] ^= 1 << rng.int(8); // one bit, past the first header
        return x;
      };
      await w.run(rng, 150);
      p.proxy.tamper = null;
      await auditPrimary(w, false, `seed ${seed} round ${round}`);
      await expectMirrored(p, w, `seed ${seed} round ${round}`);
    }
    // TLS (the default) finds the changed byte by the record's MAC; plain frames by their CRC
    expect(p.allLogs('secondary')).to.match(/integrity check|CRC mismatch|bad frame magic|frame number|over the/);
    await expectEqualAfterStop(p, w, `seed ${seed}`);
  });

  it('a replayed old frame is refused (frame number), and the pair comes back by itself', async () => {
    const seed = seedFrom(606);
    // plain frames, so that the relay can pick one out (with TLS a replayed record fails its MAC)
    const { p, w, rng } = await setUp({ mode: 'sync', tls: 'off' }, seed);
    let kept: Buffer | null = null;
    let seen = 0;
    p.proxy.frameTamper = (f) => {
      seen++;
      if (f.readUInt8(5) === 8 && !kept) kept = Buffer.from(f); // an UPDATE, valid CRC
      if (kept && seen % 40 === 0) {
        const replay = kept;
        kept = null;
        return [f, replay];
      }
      return [f];
    };
    await w.run(rng, 300);
    p.proxy.frameTamper = null;
    await auditPrimary(w, false, `seed ${seed}`);
    await expectMirrored(p, w, `seed ${seed}`);
    expect(p.allLogs('secondary')).to.match(/replayed, dropped or reordered frame/);
    await expectEqualAfterStop(p, w, `seed ${seed}`);
  });

  it('a stuck secondary (SIGSTOP, connection open): sync writes complete within the link timeout; after SIGCONT back to duplex', async () => {
    const seed = seedFrom(607);
    const { p, w, rng } = await setUp({ mode: 'sync' }, seed);
    p.secondary!.child.kill('SIGSTOP');
    try {
      const t0 = Date.now();
      const r = await w.run(rng, 100, { depth: 8 });
      const ms = Date.now() - t0;
      expect(r.broken).to.equal(false);
      console.log(`      100 sync writes against a stopped secondary took ${ms} ms (link timeout ${PAIR_LINK_TIMEOUT_MS} ms)`);
      expect(ms).to.be.below(PAIR_LINK_TIMEOUT_MS * 4);
      await p.waitState('suspended', (s) => !s.connected && s.volumes[0].state === 'suspended');
      expect(p.allLogs('primary')).to.match(/sent nothing for|acknowledged no update for/);
    } finally {
      p.secondary!.child.kill('SIGCONT');
    }
    await w.run(rng, 100);
    await auditPrimary(w, false, `seed ${seed}`);
    await expectMirrored(p, w, `seed ${seed}`);
    await expectEqualAfterStop(p, w, `seed ${seed}`);
  });

  it('async with a tiny lag bound: the primary stops shipping, tracks out-of-sync tracks, and resyncs by itself', async () => {
    const seed = seedFrom(611);
    const { p, w, rng } = await setUp({ mode: 'async', lagMax: '64KiB', linkTimeoutMs: 20_000 }, seed);
    // a stalled link fills the socket past the bound while the host keeps writing
    p.proxy.stalled = true;
    let tracking = false;
    for (let round = 0; round < 30 && !tracking; round++) {
      expect((await w.run(rng, 200, { depth: 32, flushChance: 0.1 })).broken).to.equal(false);
      tracking = (await p.status()).volumes[0].tracking === true;
    }
    expect(tracking, 'the lag bound was hit').to.equal(true);
    // the link itself survives: once the socket drains, a resync on the same connection
    p.proxy.stalled = false;
    await w.run(rng, 400, { depth: 32 });
    const log = p.allLogs('primary');
    expect(log).to.match(/lag bound hit: tracking out-of-sync tracks/);
    expect(log, 'only the kept-back tracks were shipped').to.match(/caught up after the lag bound/);
    expect(log, 'the link was never dropped').to.not.match(/replica link down/);
    await auditPrimary(w, false, `seed ${seed}`);
    await expectMirrored(p, w, `seed ${seed}`);
    await expectEqualAfterStop(p, w, `seed ${seed}`);
  });

  it('a resync after an outage ships only the out-of-sync tracks', async () => {
    const seed = seedFrom(608);
    const { p, w, rng } = await setUp({ mode: 'async' }, seed);
    p.proxy.blocked = true;
    p.proxy.cut();
    await p.waitState('suspended', (s) => s.volumes[0].state === 'suspended');
    const before = (await p.status()).volumes[0];
    // rewrite a tenth of the tracks, each once, while the link is down
    const tracks = PAIR_VOLUME_BYTES / TRACK_BYTES;
    const changed = new Set<number>();
    while (changed.size < tracks / 10) changed.add(rng.int(tracks));
    for (const tr of changed) {
      const data = rng.fill(Buffer.alloc(TRACK_BYTES));
      w.model.change(tr * TRACK_BYTES, TRACK_BYTES, data);
      expect((await w.client!.write(tr * TRACK_BYTES, data)).errno).to.equal(0);
    }
    await w.flush();
    const during = (await p.status()).volumes[0];
    expect(during.outOfSyncTracks).to.equal(changed.size);
    const statusWait = (timeout: string): Promise<{ code: number | null; stdout: string; stderr: string }> =>
      runAsync(process.execPath, [MAIN_JS, 'status', '--control', `127.0.0.1:${p.controlPort}`, '--dir', p.pDir, '--wait', '--timeout', timeout, '--json'], 60_000);
    const early = await statusWait('300ms');
    expect(early.code, early.stderr).to.equal(75);
    expect(early.stderr).to.match(/not duplex after 300 ms \(suspended\)/);
    p.proxy.blocked = false;
    // lsa status --wait returns once the resync is done
    const waited = await statusWait('60s');
    expect(waited.code, waited.stderr).to.equal(0);
    const rows = JSON.parse(waited.stdout) as { state: string; lagSeq: number; outOfSyncTracks: number }[];
    expect(rows[0]).to.include({ state: 'duplex', lagSeq: 0, outOfSyncTracks: 0 });
    const after = (await p.waitDuplex()).volumes[0];
    const shipped = after.bytesShipped - before.bytesShipped;
    const ideal = changed.size * TRACK_BYTES;
    console.log(`      resync shipped ${shipped} bytes for ${changed.size} changed tracks (${ideal} bytes): ${(shipped / ideal).toFixed(3)}x`);
    expect(shipped).to.be.within(ideal, ideal * 1.1);
    await expectMirrored(p, w, `seed ${seed}`);
    await expectEqualAfterStop(p, w, `seed ${seed}`);
  });

  it('a wrong key: both sides log a clear refusal, nothing is written; with the right key the pair forms', async () => {
    const seed = seedFrom(609);
    t = tmpDir('lsa-rep-proc-');
    const p = await ProcessPair.create(t.dir, { mode: 'sync', secondaryKey: Buffer.alloc(32, 7) });
    pair = p;
    await p.start();
    const w = new PairWriter(PAIR_VOLUME_BYTES, TRACK_BYTES);
    writer = w;
    await w.connect(p.primary!.port);
    await w.run(new Prng(seed), 100);
    await p.primary!.waitFor(/secondary refused: it failed authentication/, 10_000);
    await p.secondary!.waitFor(/primary refused: handshake failed.*authentication failed/, 10_000);
    const s = await p.status();
    expect(s.connected).to.equal(false);
    expect(s.volumes[0].state).to.equal('suspended');
    expect(s.volumes[0].error).to.match(/authentication failed/);
    // refused once per outage, not once per reconnect attempt
    await new Promise((r) => setTimeout(r, 1500));
    expect(p.allLogs('secondary').match(/primary refused/g)?.length).to.equal(1);
    expect(p.allLogs('primary').match(/secondary refused/g)?.length).to.equal(1);
    await p.stopSecondary();
    const listed = await import('../support/serve-process.js').then((m) => m.run(process.execPath, [m.MAIN_JS, 'volume', 'list', '--dir', p.sDir, '--json']));
    expect(JSON.parse(listed.stdout), 'nothing was created or written on the secondary').to.deep.equal([]);
    // the operator's fix: the right key on the secondary
    fs.copyFileSync(`${p.pDir}/replication.key`, `${p.sDir}/replication.key`);
    await p.startSecondary();
    await expectMirrored(p, w, `seed ${seed}`);
    await expectEqualAfterStop(p, w, `seed ${seed}`);
  });

  it('a same-named volume of another capacity on the secondary is refused with a clear message; other volumes pair', async () => {
    const seed = seedFrom(610);
    t = tmpDir('lsa-rep-proc-');
    const p = await ProcessPair.create(t.dir, {
      mode: 'sync', volumes: [['vol0', PAIR_VOLUME_BYTES], ['vol1', 1024 * 1024]], secondaryVolumes: [['vol0', PAIR_VOLUME_BYTES / 2]],
    });
    pair = p;
    await p.start();
    const w = new PairWriter(PAIR_VOLUME_BYTES, TRACK_BYTES);
    writer = w;
    await w.connect(p.primary!.port);
    await w.run(new Prng(seed), 100);
    await p.primary!.waitFor(/secondary refused the volume.*vol0.*capacity 4194304 bytes, not 8388608/, 10_000);
    await p.secondary!.waitFor(/volume refused.*vol0/, 10_000);
    await p.waitDuplex(20_000, ['vol1']);
    const s = await p.status();
    const vol0 = s.volumes.find((v) => v.volume === 'vol0')!;
    expect(vol0.state).to.equal('suspended');
    expect(vol0.error).to.match(/exists on the secondary with capacity 4194304 bytes, not 8388608; remove or rename it there/);
    // the operator's fix: a fresh secondary array
    await p.stopSecondary();
    await p.makeSecondaryArray([]);
    await p.startSecondary();
    await expectMirrored(p, w, `seed ${seed}`);
    await expectEqualAfterStop(p, w, `seed ${seed}`);
  });
});
