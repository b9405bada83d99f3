// lsa snapshot delete: removes a snapshot from a secondary's folder; what only it held becomes
// garbage for the collector.

import { JSON_OPTION, flag, printJson, str, type Command } from '../command';
import { SECONDARY_DIR_OPTION, withSnapshots } from '../snapshot-array';
import { snapshotNameOf, volumeNameOf } from '../names';

export const snapshotDeleteCommand: Command = {
  name: 'snapshot delete',
  summary: 'delete a snapshot from a secondary\'s folder (the server must be stopped)',
  usage: 'lsa snapshot delete [--dir volumes/secondary] --volume vol0 --name NAME [--json]',
  options: {
    dir: SECONDARY_DIR_OPTION,
    volume: { type: 'string', default: 'vol0', description: 'volume of the snapshot', valueName: 'NAME' },
    name: { type: 'string', description: 'snapshot name', valueName: 'NAME' },
    json: JSON_OPTION,
  },
  async run(ctx) {
    const dir = str(ctx, 'dir');
    const volume = volumeNameOf(ctx);
    const name = snapshotNameOf(ctx);
    return withSnapshots(ctx, dir, 'Stop that server (SIGTERM), delete, then start it again.', async (_engine, store) => {
      await store.delete(volume, name);
      if (flag(ctx, 'json')) printJson(ctx, { volume, name, deleted: true });
      else ctx.out.write(`deleted snapshot ${volume}@${name}\n`);
      return 0;
    });
  },
};
