// A separate process that runs the lock-step plan (lockstep-plan.ts) against a primary over
// NBD, one op at a time, and prints "acked N" after op N completes. It stops when stdin closes
// or on SIGTERM (after the op in flight), printing "stopped N".
//
//   node lockstep-writer.js --port P --volumes vol0[,vol1] --seed S --blocks B --shape single|group

import { parseArgs } from 'node:util';
import * as C from '../../src/nbd/constants';
import { NbdTestClient } from './nbd-client';
import { BLOCK_BYTES, opData, planOps, type PlanOptions } from './lockstep-plan';

const OPS_PER_PLAN_CHUNK = 1000;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string' }, volumes: { type: 'string' }, seed: { type: 'string' }, blocks: { type: 'string' }, shape: { type: 'string' } } });
  const plan: PlanOptions = { seed: Number(values.seed), blocks: Number(values.blocks), shape: values.shape === 'group' ? 'group' : 'single' };
  const clients = await Promise.all(String(values.volumes).split(',').map((name) => NbdTestClient.open(Number(values.port), { exportName: name })));
  let stop = false;
  process.on('SIGTERM', () => (stop = true));
  process.stdin.on('end', () => (stop = true));
  process.stdin.on('error', () => (stop = true));
  process.stdin.resume();
  let done = 0;
  let ops = planOps(plan, OPS_PER_PLAN_CHUNK);
  while (!stop) {
    if (done === ops.length) ops = planOps(plan, ops.length + OPS_PER_PLAN_CHUNK);
    const op = ops[done];
    const c = clients[op.volume];
    const r = op.kind === 'write'
      ? await c.write(op.block * BLOCK_BYTES, opData(op))
      : await c.request(C.CMD_TRIM, op.block * BLOCK_BYTES, op.count * BLOCK_BYTES);
    if (r.errno !== 0) throw new Error(`op ${done} (${op.kind} volume ${op.volume} block ${op.block}+${op.count}) failed with errno ${r.errno}`);
    done++;
    process.stdout.write(`acked ${done}\n`);
  }
  for (const c of clients) await c.flush();
  process.stdout.write(`stopped ${done}\n`);
  for (const c of clients) await c.disconnect();
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`lockstep-writer: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
