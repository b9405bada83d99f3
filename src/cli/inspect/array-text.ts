// `lsa inspect` for people: the array view as text.

import { formatApprox, formatSize } from '../../util/size';
import type { ArrayDescription } from './describe-array';

const BAR_WIDTH = 40;

export function renderArrayText(info: ArrayDescription): string {
  const g = info.geometry;
  const c = info.segmentCounts;
  const open = info.openSegments.length > 0 ? ` (${info.openSegments.map((s) => `#${s}`).join(', ')})` : '';
  const lines = [
    `array ${info.dir} (${info.arrayId})${info.degraded ? '  DEGRADED' : ''}`,
    ...accessLines(info),
    `  geometry   ${g.disks} disks (${g.dataDisks} data + 1 rotating parity) x ${formatSize(g.diskBytes)}, columns ${formatSize(g.columnBytes)}, tracks ${formatSize(g.trackBytes)}`,
    `  disks      ${info.disks.map((d) => `${d.index}:${d.health}`).join(' ')}${info.degraded ? `  (rebuild with: lsa rebuild --dir ${info.dir} --disk I)` : ''}`,
    `  segments   ${g.dataSegments} data segments: ${c.free} free, ${c.open} open${open}, ${c.closed} closed, ${c.collecting} collecting`,
    `  written    host ${formatApprox(info.stats.hostBytesWritten)}, trimmed ${formatApprox(info.stats.hostBytesTrimmed)}`,
    `  collector  ${info.collector.segmentsCollected} segments collected, ${formatApprox(info.collector.bytesMoved)} moved (lifetime)`,
    `  write amplification ${info.stats.writeAmplification.toFixed(3)}`,
    `  nvram      ${info.nvram}, ${info.stats.commits} commits, next sequence ${info.stats.nextSeq}, directory log over ${info.directoryLogPages} page(s)`,
    `  pending    ${info.pendingWrites} write-pending update(s) not yet applied`,
    '',
    'volumes:',
    ...(info.volumes.length === 0 ? ['  (none; create one with: lsa volume create)'] : []),
    ...info.volumes.map((v) => `  ${v.name.padEnd(16)} ${formatSize(v.capacityBytes).padStart(10)}  ${v.allocatedTracks}/${v.tracks} tracks hold data  compress=${v.compress}`),
    '',
    'snapshots:',
    ...(info.snapshots.length === 0 ? ['  (none)'] : []),
    ...info.snapshots.map((s) => `  ${s.volume}/${s.name}`.padEnd(34) + ` ${formatApprox(s.sizeBytes).padStart(10)}  ${new Date(s.mtimeMs).toISOString()}`),
    '',
    'utilization of closed segments:',
  ];
  const max = Math.max(1, ...info.utilizationHistogram.map((h) => h.segments));
  for (const h of info.utilizationHistogram) {
    const bar = '#'.repeat(Math.round((h.segments / max) * BAR_WIDTH));
    lines.push(`  ${(h.from * 100).toFixed(0).padStart(3)}-${(h.to * 100).toFixed(0).padStart(3)}%  ${String(h.segments).padStart(6)}  ${bar}`);
  }
  return lines.join('\n') + '\n';
}

/** Says when the view is a read-only look at an array another process runs. */
export function accessLines(info: { access: ArrayDescription['access'] }): string[] {
  if (info.access.mode === 'exclusive') return [];
  const who = info.access.heldByPid !== null ? `in use by PID ${info.access.heldByPid}` : 'not locked';
  return [`  view       read-only (array ${who}): as of its last commit`];
}
