import { InvalidArgumentError } from '../../errors';
import { CRASH_MODES, GROUP_ITERATIONS, runCrashCampaign, type CampaignResult, type CrashMode } from '../../testing/crash-campaign';
import { randomSeed } from '../../util/prng';
import { JSON_OPTION, QUIET_OPTION, flag, int, optStr, printJson, type Command, type CommandContext } from '../command';
import { Progress } from '../progress';

export const crashtestCommand: Command = {
  name: 'crashtest',
  summary: 'crash campaign: kill a worker process or cut the (simulated) power at random moments, recover, check every track',
  usage: 'lsa crashtest [--dir DIR] [--iterations N] [--seed S] [--mode kill|power|both] [--replay I] [--json] [--quiet]',
  options: {
    dir: { type: 'string', description: 'folder for the test arrays (default: a temporary folder); failing arrays are kept there', valueName: 'DIR' },
    iterations: { type: 'string', default: '100', description: 'crashes per mode', valueName: 'N' },
    seed: { type: 'string', description: 'campaign seed (default: random; printed)', valueName: 'S' },
    mode: { type: 'string', default: 'both', description: 'kill (worker process, real files, SIGKILL), power (simulated disk, power loss with torn writes), or both', valueName: 'M' },
    replay: { type: 'string', description: `replay iteration I of --mode with --seed (runs its group of ${GROUP_ITERATIONS} from the start)`, valueName: 'I' },
    json: JSON_OPTION,
    quiet: QUIET_OPTION,
  },
  details: [
    'After each crash the array is reopened (recovery on open) and checked: every write that a',
    'completed flush or FUA write covered must read back exactly; every other track must hold',
    'its old content or one written since (never garbage, never a mix inside one track); and',
    'lsa check must be clean. lost: flushed tracks that changed; corrupt: tracks holding',
    'neither; checkFailures: crashes after which the checker (or the reopen) failed.',
    'Exit status 1 if any of them is non-zero; each failure prints the command that replays it.',
  ].join('\n'),
  async run(ctx) {
    const modeText = optStr(ctx, 'mode') ?? 'both';
    if (modeText !== 'both' && !(CRASH_MODES as readonly string[]).includes(modeText)) {
      throw new InvalidArgumentError(`--mode must be kill, power or both; got "${modeText}"`);
    }
    const modes: CrashMode[] = modeText === 'both' ? [...CRASH_MODES] : [modeText as CrashMode];
    const iterations = int(ctx, 'iterations', 1, 10_000_000);
    const seed = optStr(ctx, 'seed') === undefined ? randomSeed() : int(ctx, 'seed', 0, 0xffffffff);
    const replayText = optStr(ctx, 'replay');
    const replay = replayText === undefined ? undefined : int(ctx, 'replay', 0, 10_000_000);
    if (replay !== undefined && modes.length !== 1) throw new InvalidArgumentError('--replay needs --mode kill or --mode power');
    const json = flag(ctx, 'json');
    if (!json) ctx.err.write(`crashtest: seed ${seed}, mode ${modeText}, ${replay === undefined ? `${iterations} iterations per mode` : `replaying iteration ${replay}`}\n`);
    const progress = new Progress('crashtest', json || flag(ctx, 'quiet'));
    const result = await runCrashCampaign({ modes, iterations, seed, dir: optStr(ctx, 'dir'), replay, onProgress: (d, t, w) => progress.update(d, t, w) });
    progress.done();
    if (json) {
      for (const f of result.failures) ctx.err.write(`FAILED: ${f.mode} iteration ${f.iteration} (seed ${result.seed}); replay: ${f.replay}\n`);
      printJson(ctx, {
        iterations: result.iterations, mode: result.mode, seed: result.seed,
        flushedWritesChecked: result.flushedWritesChecked, tracksChecked: result.tracksChecked,
        lost: result.lost, corrupt: result.corrupt, checkFailures: result.checkFailures,
        elapsedMs: result.elapsedMs, byMode: result.byMode, failures: result.failures,
      });
    } else {
      printSummary(ctx, result);
    }
    return result.lost + result.corrupt + result.checkFailures > 0 ? 1 : 0;
  },
};

function printSummary(ctx: CommandContext, r: CampaignResult): void {
  const w = (line: string): void => void ctx.out.write(line + '\n');
  for (const [mode, t] of Object.entries(r.byMode)) {
    w(`${mode}: ${t.iterations} crashes in ${(t.elapsedMs / 1000).toFixed(1)} s; ${t.flushedWritesChecked} flushed writes and ${t.tracksChecked} tracks checked; lost ${t.lost}, corrupt ${t.corrupt}, check failures ${t.checkFailures}`);
  }
  for (const f of r.failures) {
    w(`FAILED: ${f.mode} iteration ${f.iteration} (seed ${r.seed}); replay: ${f.replay}${f.keptDir ? `; array kept in ${f.keptDir}` : ''}`);
    for (const p of f.problems.slice(0, 8)) w(`  ${p}`);
  }
  const bad = r.lost + r.corrupt + r.checkFailures;
  w(bad === 0 ? `ok: seed ${r.seed}, ${(r.elapsedMs / 1000).toFixed(1)} s` : `${bad} problem(s); seed ${r.seed}`);
}
