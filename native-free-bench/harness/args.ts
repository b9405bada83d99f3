// Command line of the benchmark harness (npm run bench -- [options] [SCENARIO...]).

import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { SizeMode } from './scenario';

export interface BenchOptions {
  names: string[];
  mode: SizeMode;
  /** Repetitions; undefined means the mode's default. */
  runs?: number;
  /** Untimed runs before the measured ones; undefined means the mode's default. */
  warmup?: number;
  json: boolean;
  quiet: boolean;
  /** Parent of the temporary folders the scenarios work in. */
  workRoot: string;
  /** Where results/<scenario>.json and .svg go. */
  outDir: string;
  seed: number;
  list: boolean;
  help: boolean;
}

export const DEFAULT_RUNS: Record<SizeMode, number> = { tiny: 2, quick: 3, full: 5 };
/** One discarded run first: the JIT warms up, and on a virtual machine the guest memory the
 * page cache and segment buffers will use gets backed by the host (first touch is slow). */
export const DEFAULT_WARMUP_RUNS: Record<SizeMode, number> = { tiny: 0, quick: 1, full: 1 };
export const RUNS_MAX = 1000;

export const DEFAULT_OUT_DIR = path.resolve(__dirname, '..', '..', '..', 'native-free-bench', 'results');

export const USAGE = `usage: npm run bench -- [options] [SCENARIO...]

Runs the named scenarios (all of them when none is named), in quick mode unless --full.

options:
  --full        real sizes (default: quick sizes)
  --runs N      repetitions (default: 5 with --full, 3 in quick mode)
  --warmup N    discarded runs before them (default: 1)
  --json        one JSON object per scenario on stdout instead of text
  --dir DIR     folder for the scenarios' temporary files (default: the OS temp folder);
                use a folder on the filesystem you want to measure
  --out DIR     folder for <scenario>.json and <scenario>.svg (default: native-free-bench/results)
  --seed N      seed of the generated data and offsets (default: 1)
  --quiet       no progress line
  --list        list the scenarios and exit
  -h, --help    this help
`;

export class UsageError extends Error {}

export function parseBenchArgs(argv: string[]): BenchOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        full: { type: 'boolean', default: false },
        quick: { type: 'boolean', default: false },
        // hidden: tiny sizes, only to prove every scenario runs (test/bench)
        tiny: { type: 'boolean', default: false },
        runs: { type: 'string' },
        warmup: { type: 'string' },
        json: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        dir: { type: 'string' },
        out: { type: 'string' },
        seed: { type: 'string', default: '1' },
        list: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message.replace(/\. To specify a positional.*$/s, '')}; see --help`);
  }
  const v = parsed.values;
  const modes = [v.full && 'full', v.quick && 'quick', v.tiny && 'tiny'].filter((m): m is SizeMode => typeof m === 'string');
  if (modes.length > 1) throw new UsageError(`choose one size: ${modes.map((m) => `--${m}`).join(' or ')}`);
  let runs: number | undefined;
  if (v.runs !== undefined) {
    runs = Number(v.runs);
    if (!Number.isInteger(runs) || runs < 1 || runs > RUNS_MAX) throw new UsageError(`--runs must be a whole number from 1 to ${RUNS_MAX}; got "${v.runs}"`);
  }
  let warmup: number | undefined;
  if (v.warmup !== undefined) {
    warmup = Number(v.warmup);
    if (!Number.isInteger(warmup) || warmup < 0 || warmup > RUNS_MAX) throw new UsageError(`--warmup must be a whole number from 0 to ${RUNS_MAX}; got "${v.warmup}"`);
  }
  const seed = Number(v.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new UsageError(`--seed must be a whole number from 0 to 4294967295; got "${v.seed}"`);
  return {
    names: parsed.positionals,
    mode: modes[0] ?? 'quick',
    runs,
    warmup,
    json: v.json === true,
    quiet: v.quiet === true,
    workRoot: path.resolve(v.dir ?? os.tmpdir()),
    outDir: path.resolve(v.out ?? DEFAULT_OUT_DIR),
    seed,
    list: v.list === true,
    help: v.help === true,
  };
}
