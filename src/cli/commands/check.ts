import { checkArray, type CheckReport } from '../../lsa/check';
import { listSnapshotFiles } from '../../snapshot/snapshot-files';
import { openCommandArray } from '../open-command-array';
import { DIR_OPTION, JSON_OPTION, QUIET_OPTION, flag, printJson, str, type Command } from '../command';
import { Progress } from '../progress';

/** Snapshot files that do not decode (the open skipped them): problems too, never repaired
 * (the copy of a directory they held is gone; remove or move the file). */
function addDamagedSnapshots(report: CheckReport, dir: string, layout: Parameters<typeof listSnapshotFiles>[1]): void {
  for (const f of listSnapshotFiles(dir, layout)) {
    if (f.error === null) continue;
    report.ok = false;
    report.unrepaired++;
    report.problems.push({ kind: 'bad-snapshot', volume: f.volume, message: `${f.error}; it is not served: remove it or move it away` });
  }
}

export const checkCommand: Command = {
  name: 'check',
  summary: 'verify every live record (header, CRC), the directory, segment accounting and parity; exit 0 only when clean',
  usage: 'lsa check [--dir DIR] [--repair] [--json] [--quiet]',
  options: {
    dir: DIR_OPTION,
    repair: { type: 'boolean', default: false, description: 'fix what one column of damage per segment allows (rebuild from parity, move data, rewrite parity)' },
    json: JSON_OPTION,
    quiet: QUIET_OPTION,
  },
  async run(ctx) {
    const json = flag(ctx, 'json');
    const engine = await openCommandArray(str(ctx, 'dir'));
    const progress = new Progress('check', json || flag(ctx, 'quiet'));
    try {
      const report = await checkArray(engine, { repair: flag(ctx, 'repair'), onProgress: (d, t, w) => progress.update(d, t, w) });
      addDamagedSnapshots(report, str(ctx, 'dir'), engine.layout);
      progress.done();
      if (json) printJson(ctx, report);
      else {
        const status = report.ok ? (report.repaired ? `repaired ${report.repaired} problem(s)` : 'clean') : `${report.unrepaired} problem(s)${report.repaired ? `, ${report.repaired} repaired` : ''}`;
        ctx.out.write(`${status}: ${report.tracksChecked} tracks, ${report.recordsChecked} records, ${report.segmentsChecked} segments, parity of ${report.parityChecked} closed segments${report.degraded ? ' (degraded: parity not verifiable)' : ''}\n`);
        for (const p of report.problems) ctx.out.write(`  ${p.kind}${p.repaired ? ' (repaired)' : ''}: ${p.message}\n`);
      }
      return report.ok ? 0 : 1;
    } finally {
      await engine.close();
    }
  },
};
