// Opens an array for a one-shot command with the secondary's snapshots loaded, so that a
// collector running during the command keeps (and moves) the records only a snapshot still
// points at, and check counts them as live. On a primary there are no snapshots: no cost.

import type { LsaEngine } from '../lsa/engine';
import { openArray, type OpenOptions } from '../lsa/open-array';
import { SnapshotStore } from '../snapshot/snapshot-store';
import { silentLogger } from '../util/log';

export async function openCommandArray(dir: string, opts: OpenOptions & { snapshotsBestEffort?: boolean } = {}): Promise<LsaEngine> {
  // a look without a collector (inspect) goes on without them; its accounting then counts
  // snapshot-only records as garbage, and the snapshot list still shows the damaged file
  const bestEffort = opts.snapshotsBestEffort === true && opts.gcPolicy === false;
  return openArray(dir, {
    ...opts,
    pins: (engine) => {
      try {
        return SnapshotStore.load(engine, silentLogger);
      } catch (err) {
        if (bestEffort) return null;
        throw err;
      }
    },
  });
}
