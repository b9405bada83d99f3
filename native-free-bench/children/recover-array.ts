// Child process of the `recovery` scenario, one JSON line on stdout:
//
//   node dist/native-free-bench/children/recover-array.js --dir DIR --what open
//     reads nvram.sqlite sequentially (the baseline), then times openArray on an array left by a
//     crash, and exits without closing: the array stays as a crash left it, for the next run.
//
//   node dist/native-free-bench/children/recover-array.js --dir DIR --what rebuild
//     reads every disk file sequentially (the baseline: the bytes a scan must read), then times
//     the directory rebuild from the records (lsa recover --rebuild-directory --force) and
//     reports its peak resident set.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { openArray } from '../../src/lsa/open-array';
import { rebuildDirectory } from '../../src/lsa/rebuild-directory';
import { NVRAM_FILE } from '../../src/lsa/sqlite-nvram';
import { READ_CHUNK_BYTES, peakRssBytes, readSequentially } from '../harness/child-measures';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { dir: { type: 'string' }, what: { type: 'string' } }, strict: true });
  const dir = values.dir;
  if (!dir || (values.what !== 'open' && values.what !== 'rebuild')) throw new Error('usage: recover-array --dir DIR --what open|rebuild');
  const buf = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  if (values.what === 'open') {
    const nvram = path.join(dir, NVRAM_FILE);
    const r0 = performance.now();
    const nvramBytes = readSequentially(nvram, buf) + readSequentially(`${nvram}-wal`, buf);
    const sqliteReadMs = performance.now() - r0;
    const t0 = performance.now();
    const engine = await openArray(dir, { gcPolicy: false });
    const openMs = performance.now() - t0;
    const tracks = [...engine.volumesById.values()].reduce((s, v) => s + v.tracks, 0);
    process.stdout.write(JSON.stringify({ openMs, sqliteReadMs, nvramBytes, tracks, openSegments: engine.openSegmentIndexes().length }) + '\n');
    process.exit(0); // no close: the next run opens the same crashed state
  }
  const disks = fs.readdirSync(dir).filter((f) => /^disk-\d+\.img$/.test(f));
  const r0 = performance.now();
  let diskBytes = 0;
  for (const f of disks) diskBytes += readSequentially(path.join(dir, f), buf);
  const diskReadMs = performance.now() - r0;
  const t0 = performance.now();
  const { report } = await rebuildDirectory(dir, { force: true });
  const rebuildMs = performance.now() - t0;
  process.stdout.write(JSON.stringify({
    rebuildMs, diskReadMs, diskBytes, rssPeakBytes: peakRssBytes(), records: report.records,
    parityRewritten: report.parityRewritten, tracks: report.volumes.reduce((s, v) => s + v.dataTracks + v.trimmedTracks, 0),
  }) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
  process.exitCode = 1;
});
