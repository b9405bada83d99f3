// The worker of the crash campaign's kill mode (a separate process, killed with SIGKILL by its
// parent at a random moment):
//
//   node dist/src/testing/crash-worker.js --dir DIR --seed SEED --ops N
//
// It opens the array (real files, SQLite), generates the workload from the seed and the volumes
// it finds, and runs it one operation at a time. On fd 3 it reports, each line written before
// it goes on:
//
//   R <volumes>    opened; the volume list the workload starts from (name:capacity,...)
//   S <i>          about to start operation i (its changes may reach the disks from now on)
//   D <i>          operation i was acknowledged (for a flush, FUA write or reopen: durable)
//   X <i> <text>   operation i failed (a bug: the parent reports it)
//   E              all done; the worker exits without closing (as a crash at the very end)
//
// The parent regenerates the same workload from the same seed, so no data crosses the pipe.

import { parseArgs } from 'node:util';
import { openArray } from '../lsa/open-array';
import { reportLine } from '../io/worker-process';
import { crashShape } from './crash-audit';
import { engineVolumes, runCrashOp } from './crash-ops';
import { CrashWorkload, volumesKey } from './crash-workload';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { dir: { type: 'string' }, seed: { type: 'string' }, ops: { type: 'string' } }, strict: true });
  const seed = Number(values.seed);
  const ops = Number(values.ops);
  if (!values.dir || !Number.isInteger(seed) || !Number.isInteger(ops)) throw new Error('usage: crash-worker --dir DIR --seed SEED --ops N');
  const dir = values.dir;
  const engine = await openArray(dir);
  const volumes = engineVolumes(engine);
  reportLine(`R ${volumesKey(volumes)}`);
  const workload = new CrashWorkload(seed, volumes, crashShape(engine));
  const holder = { engine, reopen: () => openArray(dir) };
  for (let i = 0; i < ops; i++) {
    const op = workload.next();
    reportLine(`S ${i}`);
    try {
      await runCrashOp(holder, op);
    } catch (err) {
      reportLine(`X ${i} ${op.kind}: ${String((err as Error)?.message ?? err).replace(/\s+/g, ' ')}`);
      process.exit(3);
    }
    reportLine(`D ${i}`);
  }
  reportLine('E');
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`crash-worker: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(2);
});
