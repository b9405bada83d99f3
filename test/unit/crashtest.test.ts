// The crash campaign (lsa crashtest) in the default suite: 60 SIGKILLs of a worker process on
// real files and 320 power cuts on the simulated disk at random writes, syncs and NVRAM
// commits, each followed by recovery on open, an audit of every track and the checker.
// Replay a failure with the command it prints, or the whole run with LSA_SEED=<seed>.

import { expect } from 'chai';
import { runCli } from '../../src/cli/main';
import { runCrashCampaign, type CampaignResult } from '../../src/testing/crash-campaign';
import { seedFrom } from '../support/tmp';

function expectClean(r: CampaignResult): void {
  const failures = r.failures.map((f) => `${f.mode} ${f.iteration}: ${f.problems.slice(0, 3).join('; ')} (replay: ${f.replay})`);
  expect(failures, `seed ${r.seed}`).to.deep.equal([]);
  expect({ lost: r.lost, corrupt: r.corrupt, checkFailures: r.checkFailures }).to.deep.equal({ lost: 0, corrupt: 0, checkFailures: 0 });
}

describe('crash campaign (lsa crashtest)', function () {
  this.timeout(600_000);

  it('kill: 60 SIGKILLs of a worker on real files; flushed writes survive, other tracks old or new, check clean', async () => {
    const seed = seedFrom(5100);
    const r = await runCrashCampaign({ modes: ['kill'], iterations: 60, seed });
    console.log(`      kill: ${r.iterations} crashes, ${r.flushedWritesChecked} flushed writes, ${r.tracksChecked} tracks checked in ${(r.elapsedMs / 1000).toFixed(1)} s (seed ${seed})`);
    expectClean(r);
    expect(r.flushedWritesChecked).to.be.greaterThan(500);
  });

  it('power: 320 power cuts at random writes, syncs and commits, with torn writes', async () => {
    const seed = seedFrom(5200);
    const r = await runCrashCampaign({ modes: ['power'], iterations: 320, seed });
    console.log(`      power: ${r.iterations} crashes, ${r.flushedWritesChecked} flushed writes, ${r.tracksChecked} tracks checked in ${(r.elapsedMs / 1000).toFixed(1)} s (seed ${seed})`);
    expectClean(r);
    expect(r.flushedWritesChecked).to.be.greaterThan(3000);
  });

  it('a power-mode replay runs the same iterations again', async () => {
    const seed = seedFrom(5300);
    const a = await runCrashCampaign({ modes: ['power'], iterations: 6, seed });
    const b = await runCrashCampaign({ modes: ['power'], iterations: 6, seed, replay: 5 });
    expect(b.iterations).to.equal(6);
    expect({ w: b.flushedWritesChecked, t: b.tracksChecked }).to.deep.equal({ w: a.flushedWritesChecked, t: a.tracksChecked });
  });

  it('lsa crashtest --json prints the summary fields and exits 0', async () => {
    const out: string[] = [];
    const sink = { write: (s: string) => out.push(s) } as unknown as NodeJS.WritableStream;
    const code = await runCli(['crashtest', '--mode', 'power', '--iterations', '4', '--seed', '7', '--json'], sink, sink);
    expect(code, out.join('')).to.equal(0);
    const r = JSON.parse(out.join('')) as Record<string, unknown>;
    for (const key of ['iterations', 'mode', 'seed', 'flushedWritesChecked', 'tracksChecked', 'lost', 'corrupt', 'checkFailures']) expect(r).to.have.property(key);
    expect(r.mode).to.equal('power');
    expect(r.seed).to.equal(7);
  });
});
