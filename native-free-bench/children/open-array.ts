// Child process of the `open` scenario: opens an array in a clean Node process and reports how
// long the open took and how much resident memory it needed, as one JSON line on stdout.
//
//   node dist/native-free-bench/children/open-array.js --dir DIR --volume NAME
//
// Before the open it reads nvram.sqlite (and its -wal file, if any) sequentially: the baseline,
// the least any open that loads the directory from that file must spend on reading it.

import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { openArray } from '../../src/lsa/open-array';
import { NVRAM_FILE } from '../../src/lsa/sqlite-nvram';
import { READ_CHUNK_BYTES, peakRssBytes, readSequentially } from '../harness/child-measures';
import { volumeByName } from '../../src/volume/volume';

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
