// Smoke test of the benchmark suite: every registered scenario runs at tiny sizes through the
// real harness (a child process, as `npm run bench -- --tiny --json` would), prints one JSON
// object, writes its results file with the documented fields and a well-formed SVG.

import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SCENARIOS } from '../../native-free-bench/scenarios/index';
import { ensureTools } from '../support/system-tools';
import { tmpDir } from '../support/tmp';
import { xmlProblem } from './xml-well-formed';

/** The headline fields each scenario promises (README.md); new scenarios add theirs here. */
const RESULT_FIELDS: Record<string, string[]> = {
  'seq-write': ['lsaMiBps', 'rawMiBps', 'ratio', 'idealRatio', 'overwriteMiBps', 'overwriteRatio', 'inPlaceRatio', 'segmentsCollected'],
  'rand-write': ['lsaIops', 'rawIops', 'ratio', 'p50Ms', 'p99Ms', 'utilization', 'segmentsCollected', 'writeAmplification'],
  open: ['tracks', 'openMs', 'rssBytes', 'rssLimitBytes', 'bytesPerTrack'],
  nbd: ['seqRatio', 'randRatio', 'lsaSeqMiBps', 'qemuSeqMiBps', 'lsaRandIops', 'qemuRandIops', 'seqReadRatio', 'randReadRatio', 'lsaReadMiBps', 'qemuReadMiBps', 'lsaRandReadIops', 'qemuRandReadIops'],
  recovery: ['smallTracks', 'largeTracks', 'openSmallMs', 'openLargeMs', 'openGrowth', 'rebuildSmallMs', 'rebuildLargeMs', 'rebuildGrowth', 'rebuildRssBytes'],
  degraded: ['healthyMiBps', 'degradedMiBps', 'degradedRatio', 'rebuildMiBps', 'plainReadMiBps', 'rebuildRatio'],
  gc: ['greedyModelErrorMax', 'hotcold80BestVsGreedy', 'bestWorstVsGreedy', 'bestSkewedVsGreedy', 'greedyUniform90', 'modelUniform90'],
  replication: ['asyncRatio', 'syncRatio', 'asyncPlainRatio', 'syncPlainRatio', 'seqAsyncRatio', 'seqSyncRatio', 'noneIops', 'asyncIops', 'syncIops', 'resync1Ms', 'resync10Ms', 'resyncBytesRatio'],
  snapshot: ['p50Ms', 'p99Ms', 'baseP50Ms', 'baseP99Ms', 'p99Ratio', 'smallTracks', 'largeTracks', 'snapshotSmallMs', 'snapshotLargeMs'],
  compress: ['randomDeflateVsNone', 'randomLz4VsNone', 'halfZeroDeflateStored', 'halfZeroLz4Stored', 'textDeflateStored', 'textLz4Stored', 'textDeflateMiBps', 'textLz4MiBps', 'textNoneMiBps'],
};

/** Scenarios whose result is a grid also print it as rows (README.md): the fields each row has. */
const ROW_FIELDS: Record<string, { strings: string[]; numbers: string[]; count: number; numbersWhen?: { field: string; value: string; numbers: string[] } }> = {
  gc: {
    strings: ['policy', 'workload'], numbers: ['utilization', 'writeAmplification', 'vsGreedy'], count: 4 * 3 * 4,
    numbersWhen: { field: 'workload', value: 'uniform', numbers: ['modelWriteAmplification'] },
  },
  compress: { strings: ['data', 'mode'], numbers: ['MiBps', 'storedRatio', 'vsNone'], count: 3 * 3 },
};

const RUN_JS = path.resolve(__dirname, '..', '..', 'native-free-bench', 'run.js');

/** Every scenario at tiny sizes takes ~30 s on a quiet 2-core machine and 2-3x that beside two
 * CPU-bound processes; the limit is only there to end a hung child, so it is generous. */
const BENCH_CHILD_MS_MAX = 10 * 60_000;

function runBench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [RUN_JS, ...args], { timeout: BENCH_CHILD_MS_MAX, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('bench: every scenario runs at tiny sizes', function () {
  this.timeout(BENCH_CHILD_MS_MAX + 60_000);

  before(function () {
    this.timeout(900_000);
    ensureTools(this, ['qemu-img', 'qemu-io', 'qemu-nbd', 'fio']); // the nbd scenario drives them
  });

  it('prints one JSON object per scenario and writes results JSON and SVG', async () => {
    const work = tmpDir('lsa-bench-smoke-');
    try {
      const out = path.join(work.dir, 'results');
      const r = await runBench(['--tiny', '--json', '--runs', '2', '--dir', work.dir, '--out', out]);
      expect(r.code, r.stderr).to.equal(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines.length).to.equal(SCENARIOS.length);
      const printed = lines.map((l) => JSON.parse(l) as { scenario: string });
      expect(printed.map((p) => p.scenario)).to.deep.equal(SCENARIOS.map((s) => s.name));
      for (const s of SCENARIOS) {
        const record = JSON.parse(fs.readFileSync(path.join(out, `${s.name}.json`), 'utf8'));
        expect(record.scenario).to.equal(s.name);
        expect(record.mode).to.equal('tiny');
        expect(record.runs).to.equal(2);
        expect(record.baseline).to.be.a('string').and.not.equal('');
        expect(record.machine).to.include.keys('cpuModel', 'cores', 'node', 'date');
        expect(record.target).to.include.keys('description', 'pass', 'checks');
        for (const field of RESULT_FIELDS[s.name] ?? []) {
          expect(record.result[field], `${s.name}: result.${field}`).to.be.a('number').and.satisfy(Number.isFinite);
        }
        const rowSpec = ROW_FIELDS[s.name];
        if (rowSpec) {
          expect(record.rows, `${s.name}: rows`).to.be.an('array').with.length(rowSpec.count);
          for (const row of record.rows as Record<string, unknown>[]) {
            for (const f of rowSpec.strings) expect(row[f], `${s.name}: rows[].${f}`).to.be.a('string');
            const numbers = [...rowSpec.numbers, ...(rowSpec.numbersWhen && row[rowSpec.numbersWhen.field] === rowSpec.numbersWhen.value ? rowSpec.numbersWhen.numbers : [])];
            for (const f of numbers) expect(row[f], `${s.name}: rows[].${f}`).to.be.a('number').and.satisfy(Number.isFinite);
          }
        }
        for (const m of s.metrics) {
          const stats = record.metrics[m.key];
          expect(stats, `${s.name}: metrics.${m.key}`).to.include.keys('median', 'min', 'max', 'values');
          expect(stats.values).to.have.length(2);
          expect(stats.min).to.be.at.most(stats.median);
          expect(stats.median).to.be.at.most(stats.max);
        }
        const svg = fs.readFileSync(path.join(out, `${s.name}.svg`), 'utf8');
        expect(xmlProblem(svg), `${s.name}.svg`).to.equal(null);
        expect(svg).to.contain('<svg');
      }
      const leftovers = fs.readdirSync(work.dir).filter((f) => f.startsWith('lsa-bench-'));
      expect(leftovers, 'temporary folders left behind').to.deep.equal([]);
    } finally {
      work.cleanup();
    }
  });

  it('knows the xml checker catches broken documents', () => {
    expect(xmlProblem('<svg><g></svg>')).to.not.equal(null);
    expect(xmlProblem('<svg a="1" a="2"/>')).to.not.equal(null);
    expect(xmlProblem('<svg>a & b</svg>')).to.not.equal(null);
    expect(xmlProblem('<?xml version="1.0"?>\n<svg x="1"><text>a &amp; b</text></svg>\n')).to.equal(null);
  });
});
