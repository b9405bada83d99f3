import { InvalidArgumentError } from '../../errors';
import { collectorOf } from '../../lsa/collector';
import { parseGcPolicy } from '../../lsa/gc-policy';
import { openCommandArray } from '../open-command-array';
import { formatApprox } from '../../util/size';
import { DIR_OPTION, JSON_OPTION, QUIET_OPTION, flag, optStr, printJson, str, type Command } from '../command';
import { Progress } from '../progress';

export const gcCommand: Command = {
  name: 'gc',
  summary: 'collect garbage now until --free-segments segments are free; --save makes --policy the array default',
  usage: 'lsa gc [--dir DIR] [--policy greedy|cost-benefit|age-threshold|sepbit] [--free-segments N] [--save] [--json]',
  options: {
    dir: DIR_OPTION,
    policy: { type: 'string', description: 'victim policy for this run (default: the array\'s)', valueName: 'P' },
    'free-segments': { type: 'string', description: 'stop when this many segments are free (default: all that can be freed)', valueName: 'N' },
    save: { type: 'boolean', default: false, description: 'store --policy as the array\'s default policy' },
    json: JSON_OPTION,
    quiet: QUIET_OPTION,
  },
  async run(ctx) {
    const policyText = optStr(ctx, 'policy');
    const policy = policyText === undefined ? undefined : parseGcPolicy(policyText);
    if (flag(ctx, 'save') && !policy) throw new InvalidArgumentError('--save needs --policy P');
    const engine = await openCommandArray(str(ctx, 'dir'), { gcPolicy: policy });
    try {
      const collector = collectorOf(engine)!;
      const freeText = optStr(ctx, 'free-segments');
      const target = freeText === undefined ? engine.layout.dataSegments : Number(freeText);
      if (!Number.isInteger(target) || target < 0 || target > engine.layout.dataSegments) {
        throw new InvalidArgumentError(`--free-segments must be a whole number from 0 to ${engine.layout.dataSegments}; got "${freeText}"`);
      }
      if (flag(ctx, 'save') && policy) engine.nvram.commit({ pages: [], segments: [], meta: { gcPolicy: policy } });
      const before = { free: engine.segments.countIn('free'), moved: engine.stats.gcBytesMoved };
      const progress = new Progress('gc', flag(ctx, 'json') || flag(ctx, 'quiet'));
      const startFree = before.free;
      let freedTotal = 0;
      for (;;) {
        if (engine.segments.countIn('free') >= target) break;
        const n = await collector.collectBatch();
        if (n === 0) break;
        freedTotal += n;
        progress.update(engine.segments.countIn('free') - startFree, Math.max(1, target - startFree), `${freedTotal} segments collected`);
      }
      await engine.flush();
      progress.done();
      const result = {
        policy: collector.policy.name,
        segmentsCollected: freedTotal,
        freeSegmentsBefore: before.free,
        freeSegmentsAfter: engine.segments.countIn('free'),
        recordsMoved: collector.counters.recordsMoved,
        bytesMoved: engine.stats.gcBytesMoved - before.moved,
        corruptRecordsSkipped: collector.counters.corruptRecordsSkipped,
      };
      if (flag(ctx, 'json')) printJson(ctx, result);
      else {
        ctx.out.write(`${result.policy}: collected ${result.segmentsCollected} segments, moved ${result.recordsMoved} records (${formatApprox(result.bytesMoved)}); free segments ${result.freeSegmentsBefore} -> ${result.freeSegmentsAfter}\n`);
        if (result.corruptRecordsSkipped > 0) ctx.out.write(`warning: ${result.corruptRecordsSkipped} damaged record(s) left in place; run lsa check\n`);
      }
    } finally {
      await engine.close();
    }
    return 0;
  },
};
