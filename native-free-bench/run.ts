// The benchmark harness: npm run bench -- [--full] [--json] [--runs N] [SCENARIO...]
// Runs scenarios one after the other (never two at once: they measure the same disk), prints a
// report (or one JSON object per scenario with --json), and writes results/<scenario>.json and
// .svg. Exits 0 whether targets are met or not; 1 if a scenario failed to run, 64 on bad usage.

import { parseBenchArgs, USAGE, UsageError, type BenchOptions } from './harness/args';
import { runScenario } from './harness/run-scenario';
import type { Scenario } from './harness/scenario';
import { textReport } from './harness/text-report';
import { SCENARIOS, findScenario } from './scenarios/index';

function listText(): string {
  const width = Math.max(...SCENARIOS.map((s) => s.name.length));
  return SCENARIOS.map((s) => `  ${s.name.padEnd(width)}  ${s.title} (${s.measures}); target: ${s.target}`).join('\n') + '\n';
}

function select(opts: BenchOptions): Scenario[] {
  if (opts.names.length === 0) return [...SCENARIOS];
  return opts.names.map((name) => {
    const s = findScenario(name);
    if (!s) throw new UsageError(`no scenario "${name}"; scenarios:\n${listText()}`);
    return s;
  });
}

async function main(argv: string[]): Promise<number> {
  let opts: BenchOptions;
  let chosen: Scenario[];
  try {
    opts = parseBenchArgs(argv);
    if (opts.help) {
      process.stdout.write(USAGE + '\nscenarios:\n' + listText());
      return 0;
    }
    if (opts.list) {
      process.stdout.write(listText());
      return 0;
    }
    chosen = select(opts);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`bench: ${err.message}\n`);
      return 64;
    }
    throw err;
  }
  let failed = 0;
  for (const s of chosen) {
    try {
      const { record, files } = await runScenario(s, {
        mode: opts.mode,
        runs: opts.runs,
        warmup: opts.warmup,
        seed: opts.seed,
        workRoot: opts.workRoot,
        outDir: opts.outDir,
        quiet: opts.quiet || opts.json,
      });
      process.stdout.write(opts.json ? JSON.stringify(record) + '\n' : textReport(record, files) + '\n');
    } catch (err) {
      failed++;
      process.stderr.write(`bench: scenario ${s.name} failed: ${(err as Error)?.stack ?? String(err)}\n`);
    }
  }
  return failed > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 70;
  },
);
