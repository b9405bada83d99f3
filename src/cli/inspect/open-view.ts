// How inspection gets at an array. If no other process holds it, inspect opens it like every
// command (taking `<dir>/lock`, recovering, snapshots loaded, no collector) and describes the engine. If a live
// process holds it (`lsa serve`), or a read-only look is asked for (--watch), it peeks:
// superblocks and NVRAM read without the lock and without writing anything (lsa/peek.ts).

import { InUseError } from '../../errors';
import { engineView, type ArrayView } from '../../lsa/array-view';
import type { LsaEngine } from '../../lsa/engine';
import { peekArray } from '../../lsa/peek';
import { openCommandArray } from '../open-command-array';

export async function withArrayView<T>(dir: string, readOnly: boolean, use: (view: ArrayView) => Promise<T>): Promise<T> {
  if (!readOnly) {
    let engine: LsaEngine | null = null;
    try {
      engine = await openCommandArray(dir, { gcPolicy: false, snapshotsBestEffort: true });
    } catch (err) {
      if (!(err instanceof InUseError)) throw err;
    }
    if (engine) {
      try {
        return await use(engineView(engine));
      } finally {
        await engine.close();
      }
    }
  }
  const peek = await peekArray(dir);
  try {
    return await use(peek);
  } finally {
    await peek.close();
  }
}
