import { InvalidArgumentError } from '../../errors';
import { checkArray, type CheckReport } from '../../lsa/check';
import { openCommandArray } from '../open-command-array';
import { rebuildDirectory, type RebuildReport } from '../../lsa/rebuild-directory';
import { formatSize } from '../../util/size';
import { DIR_OPTION, JSON_OPTION, QUIET_OPTION, flag, printJson, str, type Command, type CommandContext } from '../command';
import { Progress } from '../progress';

export const recoverCommand: Command = {
  name: 'recover',
  summary: 'rebuild a lost or damaged nvram.sqlite (directory and segment table) from the records on the disks',
  usage: 'lsa recover --dir DIR --rebuild-directory [--force] [--skip-check] [--json] [--quiet]',
  options: {
    dir: DIR_OPTION,
    'rebuild-directory': { type: 'boolean', default: false, description: 'scan every segment and rebuild the directory and segment table (newest write sequence wins)' },
    force: { type: 'boolean', default: false, description: 'rebuild even though nvram.sqlite opens and belongs to this array' },
    'skip-check': { type: 'boolean', default: false, description: 'do not run lsa check on the rebuilt array' },
    json: JSON_OPTION,
    quiet: QUIET_OPTION,
  },
  details: [
    'Recovery after a crash needs no command: every open replays it (docs/RECOVERY.md).',
    'This command is for when nvram.sqlite is missing or damaged. The geometry and the volume',
    'table come from the superblocks, the directory from the records. The old nvram.sqlite (and',
    'its -wal and -shm files) is kept as nvram.sqlite.damaged-<time>; the new one is written',
    'beside it and renamed into place. Writes that were not flushed before a crash may come back',
    'if their records survived on disk; every flushed write comes back.',
  ].join('\n'),
  async run(ctx) {
    if (!flag(ctx, 'rebuild-directory')) {
      throw new InvalidArgumentError('say what to recover: --rebuild-directory (recovery after a crash happens on every open by itself)');
    }
    const dir = str(ctx, 'dir');
    const json = flag(ctx, 'json');
    const progress = new Progress('rebuild', json || flag(ctx, 'quiet'));
    const { report } = await rebuildDirectory(dir, { force: flag(ctx, 'force'), onProgress: (d, t, w) => progress.update(d, t, w) });
    progress.done();
    let check: CheckReport | null = null;
    if (!flag(ctx, 'skip-check')) {
      const engine = await openCommandArray(dir);
      const checkProgress = new Progress('check', json || flag(ctx, 'quiet'));
      try {
        check = await checkArray(engine, { onProgress: (d, t, w) => checkProgress.update(d, t, w) });
      } finally {
        checkProgress.done();
        await engine.close();
      }
    }
    if (json) printJson(ctx, { ...report, check });
    else printReport(ctx, report, check);
    return check && !check.ok ? 1 : 0;
  },
};

function printReport(ctx: CommandContext, r: RebuildReport, check: CheckReport | null): void {
  const w = (line: string): void => void ctx.out.write(line + '\n');
  w(`rebuilt ${r.nvram} in ${(r.elapsedMs / 1000).toFixed(1)} s`);
  if (r.movedAside.length > 0) w(`the old file was kept as ${r.movedAside.join(', ')}`);
  w(`scanned ${r.segmentsScanned} segments (${r.segmentsWithRecords} with records): ${r.records} records, ${r.dataRecords} data, ${r.trimRecords} trim/zero`);
  if (r.repairedRecords > 0) w(`${r.repairedRecords} damaged record(s) rebuilt from parity and rewritten`);
  if (r.damagedRecords > 0) w(`${r.damagedRecords} damaged record(s) skipped (payload CRC mismatch, parity could not rebuild them)`);
  if (r.ignoredRecords > 0) w(`${r.ignoredRecords} record(s) ignored (volume not in the superblocks, past its end, or unreadable by this build)`);
  for (const v of r.volumes) w(`volume ${v.name} (${formatSize(v.capacityBytes)}): ${v.dataTracks} tracks of data, ${v.trimmedTracks} trimmed or zeroed, of ${v.tracks}`);
  w(`segments: ${r.segmentsClosed} closed, ${r.segmentsFree} free; parity rewritten for ${r.parityRewritten}; next write sequence ${r.nextSeq}`);
  if (r.tracksWithDamagedNewest > 0) {
    const list = r.damagedTracks.map((t) => `${t.volume}:${t.track}`).join(', ');
    w(`warning: ${r.tracksWithDamagedNewest} track(s) had a damaged newest record (a write torn by a crash, or bit rot) and read their previous content: ${list}${r.tracksWithDamagedNewest > r.damagedTracks.length ? ', ...' : ''}`);
  }
  if (check) {
    w(`check: ${check.ok ? 'clean' : `${check.problems.length} problem(s)`}: ${check.tracksChecked} tracks, parity of ${check.parityChecked} closed segments`);
    for (const p of check.problems) w(`  ${p.kind}: ${p.message}`);
  }
}
