// Runs one operation of the crash workload against an engine; shared by the worker process
// (kill mode) and the in-process power-loss mode, so both exercise the same code paths.

import { collectorOf } from '../lsa/collector';
import type { LsaEngine } from '../lsa/engine';
import { createVolume } from '../lsa/volumes';
import { volumeByName } from '../volume/volume';
import type { CrashOp } from './crash-workload';

export interface EngineHolder {
  engine: LsaEngine;
  /** Opens the array again after a clean close (the `reopen` op). */
  reopen(): Promise<LsaEngine>;
}

export async function runCrashOp(h: EngineHolder, op: CrashOp): Promise<void> {
  switch (op.kind) {
    case 'write':
      return volumeByName(h.engine, op.volume).write(op.offset, op.data, { fua: op.fua });
    case 'trim':
      return volumeByName(h.engine, op.volume).trim(op.offset, op.length);
    case 'zero':
      return volumeByName(h.engine, op.volume).writeZeroes(op.offset, op.length, { noHole: op.noHole });
    case 'flush':
      return h.engine.flush();
    case 'gc':
      await collectorOf(h.engine)?.collectBatch();
      return;
    case 'create-volume':
      await createVolume(h.engine, op.volume, op.capacityBytes, 'none');
      return;
    case 'reopen':
      await h.engine.close();
      h.engine = await h.reopen();
      return;
  }
}

/** The volumes of an engine in id order, as the workload generator wants them. */
export function engineVolumes(engine: LsaEngine): { name: string; capacityBytes: number }[] {
  return [...engine.volumesById.values()].sort((a, b) => a.row.id - b.row.id).map((v) => ({ name: v.row.name, capacityBytes: v.row.capacityBytes }));
}
