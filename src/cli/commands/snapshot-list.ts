// lsa snapshot list: the snapshots in a secondary's folder, read from their files (no lock, so
// it works beside the running server). A file that does not decode is listed as damaged.

import { NotFoundError } from '../../errors';
import { fileExists } from '../../io/files';
import { listSnapshotFiles } from '../../snapshot/snapshot-files';
import { formatSize } from '../../util/size';
import { JSON_OPTION, flag, printJson, str, type Command } from '../command';
import { SECONDARY_DIR_OPTION } from '../snapshot-array';

export const snapshotListCommand: Command = {
  name: 'snapshot list',
  summary: 'list the snapshots in a secondary\'s folder (works while it is served)',
  usage: 'lsa snapshot list [--dir volumes/secondary] [--json]',
  options: { dir: SECONDARY_DIR_OPTION, json: JSON_OPTION },
  async run(ctx) {
    const dir = str(ctx, 'dir');
    if (!fileExists(dir)) throw new NotFoundError(`no array in ${dir}; name the secondary's folder with --dir`, { dir });
    const rows = listSnapshotFiles(dir).map((f) => ({
      volume: f.volume,
      name: f.name,
      seq: f.header?.barrierSeq ?? null,
      createdAt: f.header ? new Date(f.header.createdAtMs).toISOString() : null,
      entries: f.header?.allocatedEntries ?? null,
      capacityBytes: f.header?.capacityBytes ?? null,
      location: f.path,
      error: f.error,
    }));
    if (flag(ctx, 'json')) {
      printJson(ctx, rows);
      return rows.some((r) => r.error) ? 65 : 0;
    }
    if (rows.length === 0) ctx.out.write(`no snapshots in ${dir}\n`);
    for (const r of rows) {
      if (r.error) ctx.out.write(`${r.volume}@${r.name}  DAMAGED: ${r.error}\n`);
      else ctx.out.write(`${`${r.volume}@${r.name}`.padEnd(24)} seq ${String(r.seq).padEnd(10)} ${r.createdAt}  ${String(r.entries).padStart(9)} entries  ${formatSize(r.capacityBytes ?? 0)}\n`);
    }
    return rows.some((r) => r.error) ? 65 : 0;
  },
};
