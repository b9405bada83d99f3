import { openArray } from '../../lsa/open-array';
import { formatApprox, formatSize } from '../../util/size';
import { DIR_OPTION, JSON_OPTION, flag, printJson, str, type Command } from '../command';
import { describeArray, type ArrayDescription } from './describe';

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'show the array: geometry, segments, volumes, utilization histogram, write amplification',
  usage: 'lsa inspect [--dir DIR] [--json]',
  options: { dir: DIR_OPTION, json: JSON_OPTION },
  async run(ctx) {
    const engine = await openArray(str(ctx, 'dir'));
    try {
      const info = describeArray(engine);
      if (flag(ctx, 'json')) printJson(ctx, info);
      else ctx.out.write(renderText(info));
    } finally {
      await engine.close();
    }
    return 0;
  },
};

export function renderText(info: ArrayDescription): string {
  const g = info.geometry;
  const c = info.segmentCounts;
  const lines = [
    `array ${info.dir} (${info.arrayId})${info.degraded ? '  DEGRADED' : ''}`,
    ...(info.degraded ? [`  disks      ${info.disks.map((d) => `${d.index}:${d.health}`).join(' ')}  (rebuild with: lsa rebuild --dir ${info.dir} --disk I)`] : []),
    `  geometry   ${g.disks} disks (${g.dataDisks} data + 1 rotating parity) x ${formatSize(g.diskBytes)}, columns ${formatSize(g.columnBytes)}, tracks ${formatSize(g.trackBytes)}`,
    `  segments   ${g.dataSegments} data segments: ${c.free} free, ${c.open} open${info.openSegment > 0 ? ` (#${info.openSegment})` : ''}, ${c.closed} closed, ${c.collecting} collecting`,
    `  written    host ${formatApprox(info.stats.hostBytesWritten)}, trimmed ${formatApprox(info.stats.hostBytesTrimmed)}, collector moved ${formatApprox(info.stats.gcBytesMoved)} (${info.stats.segmentsCollected} segments)`,
    `  write amplification ${info.stats.writeAmplification.toFixed(3)}`,
    `  nvram      ${info.nvram}, ${info.stats.commits} commits, next sequence ${info.stats.nextSeq}`,
    '',
    'volumes:',
    ...info.volumes.map((v) => `  ${v.name.padEnd(16)} ${formatSize(v.capacityBytes).padStart(10)}  ${v.allocatedTracks}/${v.tracks} tracks hold data  compress=${v.compress}`),
    '',
    'utilization of closed segments:',
  ];
  const max = Math.max(1, ...info.utilizationHistogram.map((h) => h.segments));
  for (const h of info.utilizationHistogram) {
    const bar = '#'.repeat(Math.round((h.segments / max) * 40));
    lines.push(`  ${(h.from * 100).toFixed(0).padStart(3)}-${(h.to * 100).toFixed(0).padStart(3)}%  ${String(h.segments).padStart(6)}  ${bar}`);
  }
  return lines.join('\n') + '\n';
}
