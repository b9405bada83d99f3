// `lsa snapshot create` without --wait follows the seed's check (steps 304-308): while a
// remote-copy update is in progress (shipped but not applied, the pair suspended, or a resync
// running) it is refused with exit 75 and nothing is created; once duplex and drained it
// succeeds. The secondary is held still with SIGSTOP to keep an update in flight.

import { expect } from 'chai';
import { exec, lsa, Pair } from '../support/pair-processes';
import { ensureTools } from '../support/system-tools';
import { tmpDir } from '../support/tmp';

const MiB = 1024 * 1024;
const REFUSAL = /lsa snapshot create: snapshot of vol0 not taken: remote copy in progress; retry, or use --wait/;

describe('snapshot create without --wait (processes)', function () {
  this.timeout(180_000);
  let t: ReturnType<typeof tmpDir>;
  let pair: Pair | null = null;

  before(async function () {
    this.timeout(900_000);
    ensureTools(this, ['qemu-io']);
    t = tmpDir('lsa-snap-nowait-');
    pair = await Pair.start(t.dir, [['vol0', 32 * MiB]]);
    await pair.waitDuplex();
  });

  after(async () => {
    await pair?.kill();
    t?.cleanup();
  });

  const create = (name: string): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    lsa(['snapshot', 'create', '--volume', 'vol0', '--name', name, ...pair!.controlArgs]);

  const names = async (): Promise<string[]> => {
    const r = await lsa(['snapshot', 'list', '--dir', pair!.secondaryDir, '--json']);
    expect(r.code, r.stderr).to.equal(0);
    return (JSON.parse(r.stdout) as { name: string }[]).map((s) => s.name).sort();
  };

  const signal = (sig: NodeJS.Signals): void => {
    process.kill(pair!.secondary!.child.pid!, sig);
  };

  it('duplex and drained: taken', async () => {
    const r = await create('a');
    expect(r.code, r.stderr).to.equal(0);
    expect(await names()).to.deep.equal(['a']);
  });

  it('an update shipped but not applied (secondary stopped): exit 75, nothing created; taken once it drains', async () => {
    const p = pair!;
    signal('SIGSTOP');
    try {
      // a sync write waits for the stopped secondary: run it beside the test
      const writing = exec('qemu-io', ['-f', 'raw', '-c', 'write -P 0x5a 0 64k', p.primaryUri('vol0')], 60_000);
      const deadline = Date.now() + 10_000;
      while ((await p.status()).volumes[0].lagSeq === 0) {
        if (Date.now() > deadline) throw new Error('the write never showed up as lag');
        await new Promise((r) => setTimeout(r, 10));
      }
      const r = await create('b');
      expect(r.code, r.stderr).to.equal(75);
      expect(r.stderr).to.match(REFUSAL);
      signal('SIGCONT');
      expect((await writing).code).to.equal(0);
    } finally {
      signal('SIGCONT');
    }
    expect(await names()).to.deep.equal(['a']);
    await p.waitDuplex();
    const ok = await create('b');
    expect(ok.code, ok.stderr).to.equal(0);
    expect(await names()).to.deep.equal(['a', 'b']);
  });

  it('the pair suspended, then resyncing: exit 75, nothing created; taken once duplex', async () => {
    const p = pair!;
    expect(await p.secondary!.stop('SIGTERM')).to.equal(0);
    // 32 MiB written while the secondary is away: all of it is out of sync
    const cmds = Array.from({ length: 32 }, (_, i) => ['-c', `write -P ${0x60 + (i % 16)} ${i}M 1M`]).flat();
    const w = await exec('qemu-io', ['-f', 'raw', ...cmds, '-c', 'flush', p.primaryUri('vol0')], 60_000);
    expect(w.code, w.stderr).to.equal(0);
    expect((await p.status()).volumes[0].state).to.equal('suspended');
    const suspended = await create('c');
    expect(suspended.code, suspended.stderr).to.equal(75);
    expect(suspended.stderr).to.match(REFUSAL);

    await p.startSecondary();
    // catch the resync and hold it there (SIGSTOP), so the check sees it for sure
    const deadline = Date.now() + 20_000;
    for (;;) {
      const state = (await p.status()).volumes[0].state;
      if (state === 'resync') break;
      if (state === 'duplex') throw new Error('the resync finished before the test could see it; write more while the secondary is away');
      if (Date.now() > deadline) throw new Error(`no resync within 20 s (state ${state})`);
      await new Promise((r) => setTimeout(r, 5));
    }
    signal('SIGSTOP');
    try {
      expect((await p.status()).volumes[0].state).to.equal('resync');
      const r = await create('c');
      expect(r.code, r.stderr).to.equal(75);
      expect(r.stderr).to.match(REFUSAL);
    } finally {
      signal('SIGCONT');
    }
    expect(await names()).to.deep.equal(['a', 'b']);
    await p.waitDuplex();
    const ok = await create('c');
    expect(ok.code, ok.stderr).to.equal(0);
    expect(await names()).to.deep.equal(['a', 'b', 'c']);
  });

  it('--help, a bad --timeout and an unreachable primary give clear messages', async () => {
    const help = await lsa(['snapshot', 'create', '--help']);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.contain('usage: lsa snapshot create').and.to.contain('--wait').and.to.contain('--json');
    const bad = await lsa(['snapshot', 'create', '--volume', 'vol0', '--timeout', '30', ...pair!.controlArgs]);
    expect(bad.code).to.equal(64);
    expect(bad.stderr).to.match(/--timeout: cannot read "30" as a duration; write it like 500ms, 30s or 2m/);
    const away = await lsa(['snapshot', 'create', '--volume', 'vol0', '--control', '127.0.0.1:1', '--dir', pair!.primaryDir]);
    expect(away.code).to.equal(69);
    expect(away.stderr).to.match(/cannot reach the control API at 127\.0\.0\.1:1/);
    const none = await lsa(['snapshot', 'create', '--volume', 'nope', ...pair!.controlArgs]);
    expect(none.code, 'LSA_NOT_FOUND, rebuilt from the answer\'s code').to.equal(66);
    expect(none.stderr).to.match(/no volume "nope" on this primary/);
    for (const sub of ['list', 'export', 'diff', 'delete', 'restore']) {
      const h = await lsa(['snapshot', sub, '--help']);
      expect(h.code, sub).to.equal(0);
      expect(h.stdout).to.contain(`usage: lsa snapshot ${sub}`);
    }
  });
});

