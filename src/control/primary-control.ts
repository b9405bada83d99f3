// The control API of a primary (or of a secondary asked for one: every snapshot request is
// then refused, there is no secondary to relay to), wired to its engine and remote copy.

import type { HostIo, UpdateSource } from '../lsa/engine-ports';
import type { PrimaryReplicator } from '../replication/primary';
import { PrimarySnapshots } from '../snapshot/primary-snapshots';
import type { Logger } from '../util/log';
import { ControlApi } from './http-api';
import { statusReport } from './status-report';

export interface PrimaryControlOptions {
  host: string;
  port: number;
  token: string;
  engine: HostIo & Pick<UpdateSource, 'nextSeq'>;
  replicator: PrimaryReplicator | null;
  log: Logger;
  role?: string;
  snapshotsMax?: number;
}

export function primaryControlApi(o: PrimaryControlOptions): ControlApi {
  const snapshots = new PrimarySnapshots({ engine: o.engine, link: o.replicator, log: o.log, ...(o.snapshotsMax === undefined ? {} : { snapshotsMax: o.snapshotsMax }) });
  return new ControlApi({
    host: o.host, port: o.port, token: o.token, log: o.log, snapshots,
    status: () => statusReport(o.engine, o.replicator, o.role ?? 'primary'),
  });
}
