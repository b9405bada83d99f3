// GET /status: the pair status of every volume (simplex when the server has no secondary).

import type { VolumeLookup } from '../lsa/engine-ports';
import type { PrimaryReplicator } from '../replication/primary';

export function statusReport(engine: Pick<VolumeLookup, 'dir' | 'volumesById'>, replicator: PrimaryReplicator | null, role: string): Record<string, unknown> {
  const pairs = replicator?.status() ?? [...engine.volumesById.values()].map((v) => ({
    volume: v.row.name, state: 'simplex', mode: null, lagSeq: 0, lagBytes: 0, outOfSyncTracks: 0, lastAppliedSeq: 0, copyProgress: 0,
  }));
  return { role, dir: engine.dir, connected: replicator?.connected ?? false, volumes: pairs };
}
