// nbd: the whole system through its NBD front end. Ours: `lsa serve` (a child process) over a
// fresh array; baseline: `qemu-nbd -f raw --cache=writeback` serving a plain sparse file in the
// same folder (the same disk), in the same run (the order alternates between runs). Each side
// gets the same two workloads from real clients:
//   seq:  qemu-img convert -n -f raw of one seeded raw file into the export, then a flush
//         (qemu-io -c flush); timed from the start of the convert to the end of the flush;
//   rand: fio --ioengine=nbd, 4 KiB random writes, iodepth 32, fsync every 32 writes;
// then two read workloads over what those left (informational, no target):
//   seq read:  qemu-img bench, the whole export in 1 MiB reads, 4 in parallel;
//   rand read: fio --ioengine=nbd, 4 KiB random reads, iodepth 32, as many as the writes.
// Needs qemu-img, qemu-io, qemu-nbd and fio (Debian: qemu-utils, fio).

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Prng } from '../../src/util/prng';
import { benchGeometry } from '../harness/array-size';
import { check, defineScenario, verdictOf, type ScenarioContext, type Trial } from '../harness/scenario';
import { MIB, mibPerSecond, timed } from '../harness/timing';
import { createArray } from '../../src/lsa/open-array';

type NbdParams = {
  volumeBytes: number;
  randWriteBytes: number;
  ioBytes: number;
  queueDepth: number;
  fsyncEvery: number;
  disks: number;
};

const SEQ_RATIO_MIN = 0.5;
const RAND_RATIO_MIN = 1.0;
const EXPORT = 'bench';
const MAIN_JS = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');
const TOOL_TIMEOUT_MS = 10 * 60 * 1000;

interface Done {
  stdout: string;
  stderr: string;
}

function exec(cmd: string, args: string[]): Promise<Done> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: TOOL_TIMEOUT_MS });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? new Error(`${cmd} is not installed (Debian packages qemu-utils and fio)`) : e));
    child.on('close', (code, signal) => {
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${signal ?? code}: ${stderr.trim() || stdout.trim()}`));
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A running NBD server and how to stop it. */
interface Served {
  uri: string;
  stop(): Promise<void>;
}

async function serveLsa(dir: string, p: NbdParams): Promise<Served> {
  const engine = await createArray(dir, { geometry: benchGeometry(p.volumeBytes, p.volumeBytes + p.randWriteBytes, p.disks), volume: { name: EXPORT, capacityBytes: p.volumeBytes } });
  await engine.close();
  const child = spawn(process.execPath, [MAIN_JS, 'serve', '--dir', dir, '--nbd', '127.0.0.1:0', '--log-format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const port = await new Promise<number>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      log += d.toString();
      const m = /"port":(\d+)/.exec(log);
      if (m) resolve(Number(m[1]));
    };
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`lsa serve exited with ${code}: ${log}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    uri: `nbd://127.0.0.1:${port}/${EXPORT}`,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function serveQemu(file: string, p: NbdParams): Promise<Served> {
  const fd = fs.openSync(file, 'wx');
  fs.ftruncateSync(fd, p.volumeBytes);
  fs.closeSync(fd);
  const port = await freePort();
  const pidFile = `${file}.pid`;
  await exec('qemu-nbd', ['-f', 'raw', '--cache=writeback', '-b', '127.0.0.1', '-p', String(port), '-x', EXPORT, '-t', '-e', '8', '--fork', '--pid-file', pidFile, file]);
  const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  return {
    uri: `nbd://127.0.0.1:${port}/${EXPORT}`,
    async stop() {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        return;
      }
      for (let i = 0; i < 200; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          return;
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

interface SideResult {
  seqMs: number;
  randIops: number;
  readMs: number;
  randReadIops: number;
}

/** fio's IOPS of one job, for reads or writes. */
async function fioIops(served: Served, p: NbdParams, seed: number, rw: 'randwrite' | 'randread'): Promise<number> {
  const args = [
    `--name=${rw}`, '--ioengine=nbd', `--uri=${served.uri}`, `--rw=${rw}`, `--bs=${p.ioBytes}`,
    `--iodepth=${p.queueDepth}`, `--size=${p.volumeBytes}`, `--io_size=${p.randWriteBytes}`,
    `--randseed=${seed}`, '--output-format=json',
  ];
  if (rw === 'randwrite') args.push(`--fsync=${p.fsyncEvery}`);
  const fio = await exec('fio', args);
  const job = (JSON.parse(fio.stdout.slice(fio.stdout.indexOf('{'))) as { jobs: { write: { iops: number }; read: { iops: number } }[] }).jobs[0];
  return rw === 'randwrite' ? job.write.iops : job.read.iops;
}

async function measure(ctx: ScenarioContext, label: string, served: Served, src: string, p: NbdParams, seed: number): Promise<SideResult> {
  ctx.progress(0, 4, `${label}: qemu-img convert`);
  const seqMs = await timed(async () => {
    await exec('qemu-img', ['convert', '-n', '-f', 'raw', '-O', 'raw', src, served.uri]);
    await exec('qemu-io', ['-f', 'raw', served.uri, '-c', 'flush']);
  });
  ctx.progress(1, 4, `${label}: fio random writes`);
  const randIops = await fioIops(served, p, seed, 'randwrite');
  ctx.progress(2, 4, `${label}: qemu-img bench sequential reads`);
  const bench = await exec('qemu-img', ['bench', '-f', 'raw', '-c', String(p.volumeBytes / MIB), '-d', '4', '-s', '1M', '-S', '1M', served.uri]);
  const took = /Run completed in ([0-9.]+) seconds/.exec(bench.stdout);
  if (!took) throw new Error(`qemu-img bench printed no time: ${bench.stdout.trim()}`);
  ctx.progress(3, 4, `${label}: fio random reads`);
  const randReadIops = await fioIops(served, p, seed + 1, 'randread');
  ctx.progress(4, 4, label);
  return { seqMs, randIops, readMs: Number(took[1]) * 1000, randReadIops };
}

async function side(ctx: ScenarioContext, which: 'lsa' | 'qemu', runDir: string, src: string, p: NbdParams, seed: number): Promise<SideResult> {
  const served = which === 'lsa' ? await serveLsa(path.join(runDir, 'array'), p) : await serveQemu(path.join(runDir, 'qemu.img'), p);
  try {
    return await measure(ctx, which === 'lsa' ? 'lsa serve' : 'qemu-nbd', served, src, p, seed);
  } finally {
    await served.stop();
  }
}

/** The source image: seeded incompressible data, written in pieces (never all in memory). */
function writeSource(file: string, bytes: number, seed: number): void {
  const rng = new Prng(seed);
  const piece = Buffer.allocUnsafe(Math.min(bytes, 16 * MIB));
  const fd = fs.openSync(file, 'w');
  try {
    for (let off = 0; off < bytes; off += piece.length) {
      const n = Math.min(piece.length, bytes - off);
      for (let i = 0; i + 4 <= n; i += 4) piece.writeUInt32LE(rng.u32(), i);
      fs.writeSync(fd, piece, 0, n, off);
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export const nbd = defineScenario<NbdParams>({
  name: 'nbd',
  title: 'NBD: qemu-img convert, fio random writes, and reads back, through lsa serve vs qemu-nbd',
  measures: 'system',
  baseline: 'qemu-nbd -f raw --cache=writeback serving a plain sparse file in the same folder, driven by the same qemu-img convert and fio commands in the same run (the order alternates between runs)',
  target: `seqRatio >= ${SEQ_RATIO_MIN} and randRatio >= ${RAND_RATIO_MIN} (ours / qemu-nbd), medians of the runs`,
  metrics: [
    { key: 'lsaSeqMiBps', unit: 'MiB/s', description: 'image bytes / time of qemu-img convert -n into lsa serve plus a flush' },
    { key: 'qemuSeqMiBps', unit: 'MiB/s', description: 'the same into qemu-nbd' },
    { key: 'seqRatio', unit: '', description: 'lsaSeqMiBps / qemuSeqMiBps of the same run' },
    { key: 'lsaRandIops', unit: 'IOPS', description: 'fio 4 KiB random writes, iodepth 32, fsync every 32, against lsa serve' },
    { key: 'qemuRandIops', unit: 'IOPS', description: 'the same against qemu-nbd' },
    { key: 'randRatio', unit: '', description: 'lsaRandIops / qemuRandIops of the same run' },
    { key: 'lsaReadMiBps', unit: 'MiB/s', description: 'qemu-img bench: the whole export in 1 MiB reads, 4 in parallel, from lsa serve (after the writes)' },
    { key: 'qemuReadMiBps', unit: 'MiB/s', description: 'the same from qemu-nbd' },
    { key: 'seqReadRatio', unit: '', description: 'lsaReadMiBps / qemuReadMiBps of the same run (informational)' },
    { key: 'lsaRandReadIops', unit: 'IOPS', description: 'fio 4 KiB random reads, iodepth 32, from lsa serve' },
    { key: 'qemuRandReadIops', unit: 'IOPS', description: 'the same from qemu-nbd' },
    { key: 'randReadRatio', unit: '', description: 'lsaRandReadIops / qemuRandReadIops of the same run (informational)' },
  ],
  sizes: {
    tiny: { volumeBytes: 8 * MIB, randWriteBytes: 1 * MIB, ioBytes: 4096, queueDepth: 32, fsyncEvery: 32, disks: 5 },
    quick: { volumeBytes: 256 * MIB, randWriteBytes: 32 * MIB, ioBytes: 4096, queueDepth: 32, fsyncEvery: 32, disks: 5 },
    full: { volumeBytes: 1024 * MIB, randWriteBytes: 128 * MIB, ioBytes: 4096, queueDepth: 32, fsyncEvery: 32, disks: 5 },
  },

  async prepare(ctx, p): Promise<Trial> {
    ctx.progress(0, 1, 'writing the source image');
    const src = path.join(ctx.workDir, 'source.img');
    writeSource(src, p.volumeBytes, ctx.seed);
    return {
      async run(index) {
        const runDir = path.join(ctx.workDir, `run-${index}`);
        fs.mkdirSync(runDir);
        try {
          const seed = ctx.seed + index;
          let lsa: SideResult;
          let qemu: SideResult;
          if (index % 2 === 0) {
            lsa = await side(ctx, 'lsa', runDir, src, p, seed);
            qemu = await side(ctx, 'qemu', runDir, src, p, seed);
          } else {
            qemu = await side(ctx, 'qemu', runDir, src, p, seed);
            lsa = await side(ctx, 'lsa', runDir, src, p, seed);
          }
          const lsaSeqMiBps = mibPerSecond(p.volumeBytes, lsa.seqMs);
          const qemuSeqMiBps = mibPerSecond(p.volumeBytes, qemu.seqMs);
          const lsaReadMiBps = mibPerSecond(p.volumeBytes, lsa.readMs);
          const qemuReadMiBps = mibPerSecond(p.volumeBytes, qemu.readMs);
          return {
            metrics: {
              lsaSeqMiBps, qemuSeqMiBps, seqRatio: lsaSeqMiBps / qemuSeqMiBps,
              lsaRandIops: lsa.randIops, qemuRandIops: qemu.randIops, randRatio: lsa.randIops / qemu.randIops,
              lsaReadMiBps, qemuReadMiBps, seqReadRatio: lsaReadMiBps / qemuReadMiBps,
              lsaRandReadIops: lsa.randReadIops, qemuRandReadIops: qemu.randReadIops, randReadRatio: lsa.randReadIops / qemu.randReadIops,
            },
          };
        } finally {
          fs.rmSync(runDir, { recursive: true, force: true });
        }
      },
      async dispose() {},
    };
  },

  result: (s) => ({
    seqRatio: s.metrics.seqRatio.median,
    randRatio: s.metrics.randRatio.median,
    lsaSeqMiBps: s.metrics.lsaSeqMiBps.median,
    qemuSeqMiBps: s.metrics.qemuSeqMiBps.median,
    lsaRandIops: s.metrics.lsaRandIops.median,
    qemuRandIops: s.metrics.qemuRandIops.median,
    seqReadRatio: s.metrics.seqReadRatio.median,
    randReadRatio: s.metrics.randReadRatio.median,
    lsaReadMiBps: s.metrics.lsaReadMiBps.median,
    qemuReadMiBps: s.metrics.qemuReadMiBps.median,
    lsaRandReadIops: s.metrics.lsaRandReadIops.median,
    qemuRandReadIops: s.metrics.qemuRandReadIops.median,
  }),

  judge: (s, _p, runs) => verdictOf([
    check('seqRatio', s.metrics.seqRatio.median, '>=', SEQ_RATIO_MIN, `median of ${runs} runs`),
    check('randRatio', s.metrics.randRatio.median, '>=', RAND_RATIO_MIN, `median of ${runs} runs`),
  ]),

  plot: (s) => [
    {
      kind: 'bars',
      title: 'qemu-img convert + flush',
      unit: 'MiB/s',
      bars: [
        { label: 'lsa serve', role: 'ours', ...s.metrics.lsaSeqMiBps },
        { label: 'qemu-nbd', role: 'baseline', ...s.metrics.qemuSeqMiBps },
      ],
    },
    {
      kind: 'bars',
      title: 'fio 4 KiB random writes',
      unit: 'IOPS',
      bars: [
        { label: 'lsa serve', role: 'ours', ...s.metrics.lsaRandIops },
        { label: 'qemu-nbd', role: 'baseline', ...s.metrics.qemuRandIops },
      ],
    },
    {
      kind: 'bars',
      title: 'qemu-img bench 1 MiB reads',
      unit: 'MiB/s',
      bars: [
        { label: 'lsa serve', role: 'ours', ...s.metrics.lsaReadMiBps },
        { label: 'qemu-nbd', role: 'baseline', ...s.metrics.qemuReadMiBps },
      ],
    },
    {
      kind: 'bars',
      title: 'fio 4 KiB random reads',
      unit: 'IOPS',
      bars: [
        { label: 'lsa serve', role: 'ours', ...s.metrics.lsaRandReadIops },
        { label: 'qemu-nbd', role: 'baseline', ...s.metrics.qemuRandReadIops },
      ],
    },
    {
      kind: 'bars',
      title: 'ours / qemu-nbd',
      unit: 'ratio',
      bars: [
        { label: 'seq', role: 'ours', ...s.metrics.seqRatio },
        { label: 'rand', role: 'ours', ...s.metrics.randRatio },
        { label: 'seq read', role: 'ours', ...s.metrics.seqReadRatio },
        { label: 'rand read', role: 'ours', ...s.metrics.randReadRatio },
      ],
      lines: [{ label: 'seq target', value: SEQ_RATIO_MIN }, { label: 'rand target', value: RAND_RATIO_MIN }],
    },
  ],
});
