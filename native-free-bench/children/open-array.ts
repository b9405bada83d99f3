// Child process of the `open` scenario: opens an array in a clean Node process and reports how
// long the open took and how much resident memory it needed, as one JSON line on stdout.
//
//   node dist/native-free-bench/children/open-array.js --dir DIR --volume NAME
//
// Before the open it reads nvram.sqlite (and its -wal file, if any) sequentially: the baseline,
// the least any open that loads the directory from that file must spend on reading it.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { openArray } from '../../src/lsa/open-array';
import { NVRAM_FILE } from '../../src/lsa/sqlite-nvram';
import { volumeByName } from '../../src/volume/volume';

const READ_CHUNK_BYTES = 1024 * 1024;

/** Peak resident set of this process. getrusage's maxrss would do elsewhere, but on Linux it
 * keeps the high-water mark of the parent's memory copied by fork before exec, so it would
 * report the harness's size; VmHWM belongs to this process's own address space. */
function peakRssBytes(): number {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}

/** Reads a file start to end; returns its length (0 if it does not exist). */
function readSequentially(file: string, buf: Buffer): number {
  if (!fs.existsSync(file)) return 0;
  const fd = fs.openSync(file, 'r');
  let total = 0;
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) total += n;
  } finally {
    fs.closeSync(fd);
  }
  return total;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { dir: { type: 'string' }, volume: { type: 'string' } }, strict: true });
  if (!values.dir || !values.volume) throw new Error('usage: open-array --dir DIR --volume NAME');
  const nvram = path.join(values.dir, NVRAM_FILE);
  const rssBeforeOpenBytes = process.memoryUsage().rss;

  const buf = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  const r0 = performance.now();
  const nvramBytes = readSequentially(nvram, buf) + readSequentially(`${nvram}-wal`, buf);
  const sqliteReadMs = performance.now() - r0;

  const t0 = performance.now();
  const engine = await openArray(values.dir);
  const volume = volumeByName(engine, values.volume);
  const openMs = performance.now() - t0;

  const rssAfterOpenBytes = process.memoryUsage().rss;
  const rssPeakBytes = peakRssBytes();
  const tracks = volume.state.tracks;
  const allocatedTracks = volume.state.directory.countAllocated(() => true);
  await engine.close();
  process.stdout.write(JSON.stringify({ openMs, sqliteReadMs, nvramBytes, rssBeforeOpenBytes, rssAfterOpenBytes, rssPeakBytes, tracks, allocatedTracks }) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
  process.exitCode = 1;
});
