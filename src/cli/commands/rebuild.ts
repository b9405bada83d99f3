import { InvalidArgumentError } from '../../errors';
import { checkArray } from '../../lsa/check';
import { openCommandArray } from '../open-command-array';
import { rebuildDisk } from '../../lsa/rebuild-disk';
import { formatApprox } from '../../util/size';
import { DIR_OPTION, JSON_OPTION, QUIET_OPTION, flag, printJson, str, type Command } from '../command';
import { Progress } from '../progress';

export const rebuildCommand: Command = {
  name: 'rebuild',
  summary: 'rebuild a missing, blank, truncated or replaced disk file from the others (resumable), then check',
  usage: 'lsa rebuild [--dir DIR] --disk I [--json] [--quiet]',
  options: {
    dir: DIR_OPTION,
    disk: { type: 'string', description: 'index of the disk file to rebuild (disk-I.img)', valueName: 'I' },
    json: JSON_OPTION,
    quiet: QUIET_OPTION,
  },
  async run(ctx) {
    const diskText = str(ctx, 'disk');
    const disk = Number(diskText);
    if (!Number.isInteger(disk) || disk < 0) throw new InvalidArgumentError(`--disk must be a disk index (0, 1, ...); got "${diskText}"`);
    const json = flag(ctx, 'json');
    const engine = await openCommandArray(str(ctx, 'dir'));
    const progress = new Progress(`rebuild disk ${disk}`, json || flag(ctx, 'quiet'));
    const t0 = Date.now();
    try {
      const result = await rebuildDisk(engine, disk, (p) => progress.update(p.segmentsDone, p.segmentsTotal, `${formatApprox(p.bytesWritten)} written`));
      progress.done();
      const seconds = (Date.now() - t0) / 1000;
      const report = await checkArray(engine);
      const out = { ...result, seconds, mibPerSecond: result.bytesWritten / 1048576 / Math.max(seconds, 1e-3), check: { ok: report.ok, problems: report.problems } };
      if (json) printJson(ctx, out);
      else {
        ctx.out.write(`rebuilt disk ${disk}: ${result.segmentsTotal} segments${result.resumedAt > 1 ? ` (resumed at segment ${result.resumedAt})` : ''}, ${formatApprox(result.bytesWritten)} written in ${seconds.toFixed(1)} s\n`);
        ctx.out.write(report.ok ? 'check: clean\n' : `check: ${report.problems.length} problem(s)\n${report.problems.map((p) => `  ${p.kind}: ${p.message}`).join('\n')}\n`);
      }
      return report.ok ? 0 : 1;
    } finally {
      await engine.close();
    }
  },
};
