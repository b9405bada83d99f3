// lsa snapshot diff: the byte ranges of a volume that differ between two snapshots, or between
// a snapshot and the volume as it is now on the secondary, from the directories alone (no data
// read). Works while the secondary is served: files are read directly, the current directory
// from the last commit (read-only look, as lsa inspect does).

import { InvalidArgumentError } from '../../errors';
import { peekArray } from '../../lsa/peek';
import { diffDirectories } from '../../snapshot/snapshot-diff';
import { readSnapshotFile } from '../../snapshot/snapshot-files';
import type { VolumeDirectory } from '../../lsa/directory';
import { formatApprox } from '../../util/size';
import { JSON_OPTION, flag, printJson, str, type Command } from '../command';
import { SECONDARY_DIR_OPTION } from '../snapshot-array';
import { checkSnapshotName, volumeNameOf } from '../names';

export const snapshotDiffCommand: Command = {
  name: 'snapshot diff',
  summary: 'byte ranges that differ between two snapshots, or a snapshot and the volume now (from the directories)',
  usage: 'lsa snapshot diff [--dir volumes/secondary] --volume vol0 --name A [--name B] [--json]',
  options: {
    dir: SECONDARY_DIR_OPTION,
    volume: { type: 'string', default: 'vol0', description: 'volume of the snapshots', valueName: 'NAME' },
    name: { type: 'string', multiple: true, description: 'snapshot A; a second --name B compares with B instead of the volume now', valueName: 'NAME' },
    json: JSON_OPTION,
  },
  details: 'A track rewritten with the same bytes counts as changed: ranges may be larger than the bytes that differ, never smaller.\n--json prints [{offset, length}, ...].',
  async run(ctx) {
    const dir = str(ctx, 'dir');
    const volume = volumeNameOf(ctx);
    const names = ((ctx.values.name as string[] | undefined) ?? []).map((n) => checkSnapshotName(n));
    if (names.length < 1 || names.length > 2) throw new InvalidArgumentError('name one snapshot (compared with the volume now) or two: --name A [--name B]');
    const a = readSnapshotFile(dir, volume, names[0]);
    let other: VolumeDirectory;
    let otherLabel: string;
    if (names.length === 2) {
      const b = readSnapshotFile(dir, volume, names[1]);
      if (b.header.capacityBytes !== a.header.capacityBytes) throw new InvalidArgumentError(`${volume}@${names[0]} and ${volume}@${names[1]} have different sizes`);
      other = b.dir;
      otherLabel = `${volume}@${names[1]}`;
    } else {
      const view = await peekArray(dir);
      try {
        const v = view.volumesByName.get(volume);
        if (!v || v.tracks !== a.dir.tracks) throw new InvalidArgumentError(`volume ${volume} in ${dir} is missing or no longer the size of its snapshot`);
        other = v.directory;
      } finally {
        await view.close();
      }
      otherLabel = `${volume} now`;
    }
    const ranges = diffDirectories(a.dir, other, a.header.trackBytes, a.header.capacityBytes);
    if (flag(ctx, 'json')) {
      printJson(ctx, ranges);
      return 0;
    }
    const total = ranges.reduce((n, r) => n + r.length, 0);
    ctx.out.write(`${volume}@${names[0]} -> ${otherLabel}: ${ranges.length} range(s), ${formatApprox(total)} differ\n`);
    for (const r of ranges) ctx.out.write(`  ${r.offset}\t${r.length}\n`);
    return 0;
  },
};
