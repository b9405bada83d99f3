import { InvalidArgumentError } from '../../errors';
import { openCommandArray } from '../open-command-array';
import { createVolume } from '../../lsa/volumes';
import { isTrimLike } from '../../lsa/record-format';
import { formatSize } from '../../util/size';
import { DIR_OPTION, JSON_OPTION, flag, optStr, printJson, size, str, type Command } from '../command';

export const volumeCommand: Command = {
  name: 'volume',
  summary: 'create or list volumes: lsa volume create --name NAME --capacity SIZE | lsa volume list',
  usage: 'lsa volume create|list [--dir DIR] [--name NAME] [--capacity SIZE] [--compress none|deflate|lz4] [--json]',
  positionals: ['create|list'],
  options: {
    dir: DIR_OPTION,
    name: { type: 'string', description: 'volume name (create)', valueName: 'NAME' },
    capacity: { type: 'string', description: 'volume capacity (create), a multiple of 512 bytes', valueName: 'SIZE' },
    compress: { type: 'string', default: 'none', description: 'track compression (create): none, deflate or lz4', valueName: 'MODE' },
    json: JSON_OPTION,
  },
  async run(ctx) {
    const action = ctx.positionals[0];
    if (action !== 'create' && action !== 'list') throw new InvalidArgumentError('say what to do: lsa volume create ... or lsa volume list');
    const engine = await openCommandArray(str(ctx, 'dir'));
    try {
      if (action === 'create') {
        const v = await createVolume(engine, str(ctx, 'name'), size(ctx, 'capacity'), optStr(ctx, 'compress') ?? 'none');
        const row = { id: v.row.id, name: v.row.name, capacityBytes: v.row.capacityBytes, compress: v.row.compress };
        if (flag(ctx, 'json')) printJson(ctx, row);
        else ctx.out.write(`created volume ${row.name}: ${formatSize(row.capacityBytes)}\n`);
        return 0;
      }
      const rows = [...engine.volumesById.values()].map((v) => ({
        id: v.row.id, name: v.row.name, capacityBytes: v.row.capacityBytes, compress: v.row.compress,
        allocatedTracks: v.directory.countAllocated((f) => !isTrimLike(f)), tracks: v.tracks,
      }));
      if (flag(ctx, 'json')) printJson(ctx, rows);
      else for (const r of rows) ctx.out.write(`${r.name}\t${formatSize(r.capacityBytes)}\t${r.allocatedTracks}/${r.tracks} tracks\tcompress=${r.compress}\n`);
      return 0;
    } finally {
      await engine.close();
    }
  },
};
