// lsa inspect: the array (geometry, health, segments, utilization, write amplification,
// collector, snapshots), one segment (--segment), where a track lives (--volume with --track
// or --offset), a picture (--svg), or any of these refreshed every second (--watch). Views are
// in ../inspect/; an array another process holds is looked at read-only.

import { InvalidArgumentError } from '../../errors';
import { DIR_OPTION, JSON_OPTION, flag, int, str, type Command } from '../command';
import { withArrayView } from '../inspect/open-view';
import { renderSelection, selectionFrom } from '../inspect/selection';
import { watchView } from '../inspect/watch';

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'show the array, a segment (--segment), where a track lives (--volume --track), a picture (--svg); --watch to follow',
  usage: 'lsa inspect [--dir DIR] [--segment S | --volume NAME (--track T | --offset BYTES) | --svg FILE] [--watch [--count N]] [--read-only] [--json]',
  options: {
    dir: DIR_OPTION,
    segment: { type: 'string', description: 'one segment: its columns, every record, live or garbage', valueName: 'S' },
    volume: { type: 'string', description: 'with --track or --offset: where that data lives', valueName: 'NAME' },
    track: { type: 'string', description: 'track number in --volume', valueName: 'T' },
    offset: { type: 'string', description: 'byte offset in --volume (4096, 1MiB, ...)', valueName: 'BYTES' },
    svg: { type: 'string', description: 'write a picture of the segments to FILE (open it in a browser)', valueName: 'FILE' },
    watch: { type: 'boolean', default: false, description: 'refresh every second (read-only: works while lsa serve runs)' },
    count: { type: 'string', description: 'with --watch: stop after N refreshes', valueName: 'N' },
    'read-only': { type: 'boolean', default: false, description: 'look without the lock and without writing (automatic when the array is in use)' },
    json: JSON_OPTION,
  },
  details: [
    'An array that another process holds (lsa serve) is read without its lock and without writing',
    'anything: the view is as of that process\'s last commit.',
  ].join('\n'),
  async run(ctx) {
    const dir = str(ctx, 'dir');
    const json = flag(ctx, 'json');
    const sel = selectionFrom(ctx);
    if (flag(ctx, 'watch')) {
      const count = ctx.values.count === undefined ? undefined : int(ctx, 'count', 1, 1_000_000_000);
      return watchView(() => withArrayView(dir, true, (view) => renderSelection(view, sel, json, true)), { out: ctx.out, err: ctx.err, count, json });
    }
    if (ctx.values.count !== undefined) throw new InvalidArgumentError('--count goes with --watch: lsa inspect --watch --count N');
    ctx.out.write(await withArrayView(dir, flag(ctx, 'read-only'), (view) => renderSelection(view, sel, json)));
    return 0;
  },
};
