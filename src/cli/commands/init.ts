import { DEFAULT_GEOMETRY } from '../../array/geometry';
import { joinPath } from '../../io/files';
import { KEY_FILE, ensureKeyFile } from '../../io/key-file';
import { controlTokenPath, ensureControlToken } from '../../io/control-token';
import { GC_POLICIES, parseGcPolicy } from '../../lsa/gc-policy';
import { createArray } from '../../lsa/open-array';
import { formatSize } from '../../util/size';
import { DIR_OPTION, JSON_OPTION, flag, int, optSize, optStr, printJson, size, str, type Command } from '../command';
import { describeEngine } from '../inspect/describe-array';
import { checkVolumeName } from '../names';

export const initCommand: Command = {
  name: 'init',
  summary: 'create an array (N+1 sparse disk files and its NVRAM), its replication key and control token, and, unless --no-volume, one volume',
  usage: 'lsa init [--dir DIR] [--disks 5] [--disk-size 256MiB] [--column-size 1MiB] [--track-size 4KiB] [--volume vol0] [--capacity SIZE] [--compress none|deflate|lz4] [--no-volume]',
  options: {
    dir: DIR_OPTION,
    disks: { type: 'string', default: String(DEFAULT_GEOMETRY.disks), description: 'disk files: N data + 1 parity (3 to 32)', valueName: 'N' },
    'disk-size': { type: 'string', default: '256MiB', description: 'size of each disk file (sparse)', valueName: 'SIZE' },
    'column-size': { type: 'string', default: '1MiB', description: 'segment column size on each disk', valueName: 'SIZE' },
    'track-size': { type: 'string', default: '4KiB', description: 'logical track size, 4KiB to 256KiB', valueName: 'SIZE' },
    volume: { type: 'string', default: 'vol0', description: 'name of the first volume', valueName: 'NAME' },
    capacity: { type: 'string', description: 'capacity of the first volume (default: 80% of the usable space)', valueName: 'SIZE' },
    compress: { type: 'string', default: 'none', description: 'track compression of the first volume: none, deflate or lz4', valueName: 'MODE' },
    'no-volume': { type: 'boolean', default: false, description: 'create no volume (a secondary gets its volumes from the primary)' },
    'gc-policy': { type: 'string', description: `collector policy: ${GC_POLICIES.join(', ')} (default: the benchmark's best, see README)`, valueName: 'P' },
    json: JSON_OPTION,
  },
  async run(ctx) {
    const dir = str(ctx, 'dir');
    const geometry = {
      disks: int(ctx, 'disks', 3, 32),
      diskBytes: size(ctx, 'disk-size'),
      columnBytes: size(ctx, 'column-size'),
      trackBytes: size(ctx, 'track-size'),
    };
    const capacityBytes = optSize(ctx, 'capacity');
    const volume = flag(ctx, 'no-volume') ? null : { name: checkVolumeName(optStr(ctx, 'volume') ?? 'vol0'), capacityBytes, compress: optStr(ctx, 'compress') ?? 'none' };
    const policyText = optStr(ctx, 'gc-policy');
    const gcPolicy = policyText === undefined ? undefined : parseGcPolicy(policyText);
    const engine = await createArray(dir, { geometry, volume, gcPolicy });
    // the pre-shared key of the remote copy; give the secondary the same file (or --key-file)
    const keyCreated = ensureKeyFile(joinPath(dir, KEY_FILE));
    // the credential of the control API (lsa serve --control); the CLI reads it from --dir
    const tokenCreated = ensureControlToken(controlTokenPath(dir));
    try {
      const info = describeEngine(engine);
      if (flag(ctx, 'json')) printJson(ctx, info);
      else {
        const l = engine.layout;
        ctx.out.write(`created array in ${dir}: ${l.disks} disks of ${formatSize(l.diskBytes)} (sparse), ${formatSize(l.columnBytes)} columns, ${formatSize(l.trackBytes)} tracks, ${l.dataSegments} data segments\n`);
        for (const v of info.volumes) ctx.out.write(`volume ${v.name}: ${formatSize(v.capacityBytes)}${v.compress && v.compress !== 'none' ? `, compress=${v.compress}` : ''}\n`);
        if (keyCreated) ctx.out.write(`replication key: ${joinPath(dir, KEY_FILE)} (mode 0600; both ends of a pair need the same key)\n`);
        if (tokenCreated) ctx.out.write(`control token: ${controlTokenPath(dir)} (mode 0600; lsa status and lsa snapshot read it with --dir ${dir})\n`);
      }
    } finally {
      await engine.close();
    }
    return 0;
  },
};
