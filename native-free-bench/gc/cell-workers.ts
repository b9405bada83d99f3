// The gc scenario's cells are independent and deterministic for their seed, so they run on
// worker threads, one per core: the same numbers in half the time on this 2-core machine.
// Each worker measures one cell at a time (gc/write-amplification.ts) and posts the result.

import * as os from 'node:os';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { measureCell, type CellResult, type CellSpec } from './write-amplification';

type Reply = { ok: true; result: CellResult } | { ok: false; error: string };

/** Measures every cell, at most one per core at a time; `onDone` sees each as it finishes.
 * Results come back in the order of `cells`. */
export async function measureCells(cells: CellSpec[], onDone: (i: number, r: CellResult) => void, threads = os.availableParallelism()): Promise<CellResult[]> {
  const results: CellResult[] = new Array(cells.length);
  let next = 0;
  const runWorker = async (): Promise<void> => {
    const worker = new Worker(__filename);
    try {
      while (next < cells.length) {
        const i = next++;
        const reply = await new Promise<Reply>((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
          worker.postMessage(cells[i]);
        });
        worker.removeAllListeners('error');
        if (!reply.ok) throw new Error(`gc cell ${cells[i].policy} ${cells[i].workload} ${cells[i].utilization}: ${reply.error}`);
        results[i] = reply.result;
        onDone(i, reply.result);
      }
    } finally {
      await worker.terminate();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(threads, cells.length)) }, runWorker));
  return results;
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  port.on('message', (spec: CellSpec) => {
    measureCell(spec).then(
      (result) => port.postMessage({ ok: true, result } satisfies Reply),
      (err: unknown) => port.postMessage({ ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) } satisfies Reply),
    );
  });
}
