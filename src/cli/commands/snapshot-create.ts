// lsa snapshot create: asks the primary (control API) for a snapshot of one volume, or of
// several as one consistency group; the secondary takes it at a barrier, the primary never
// pauses. Refused with exit 75 while a remote-copy update is in progress, unless --wait.

import { InvalidArgumentError } from '../../errors';
import { parseDurationMs } from '../../util/duration';
import { JSON_OPTION, flag, optStr, printJson, str, type Command } from '../command';
import { CONTROL_OPTIONS, controlRequest, controlTarget } from '../control-client';
import { checkSnapshotName, checkVolumeName } from '../names';

/** The HTTP request outlives the server's own deadline by this much (it answers 504 first). */
const HTTP_GRACE_MS = 15_000;

export interface SnapshotCreated {
  name: string;
  volumes: string[];
  location: string;
  seq: number;
  entries: number;
  durationMs: number;
}

export function volumesOption(ctx: { values: Record<string, unknown> }): string[] {
  const v = ctx.values.volume;
  const list = Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : [];
  if (list.length === 0) throw new InvalidArgumentError('name the volume: --volume vol0 (repeat --volume for a consistency group)');
  return list.map((n) => checkVolumeName(n));
}

export const snapshotCreateCommand: Command = {
  name: 'snapshot create',
  summary: 'take a snapshot on the secondary through the primary (several --volume: one consistency group)',
  usage: 'lsa snapshot create --volume vol0 [--volume vol1 ...] [--name NAME] [--replace] [--wait] [--timeout 30s] [--control 127.0.0.1:10810] [--dir volumes/primary | --token-file F] [--json]',
  options: {
    volume: { type: 'string', multiple: true, description: 'volume to snapshot (repeat for a consistency group: one instant for all)', valueName: 'NAME' },
    name: { type: 'string', description: 'snapshot name (default: latest, replacing the previous latest)', valueName: 'NAME' },
    replace: { type: 'boolean', default: false, description: 'replace a snapshot of that name (without it, an existing name is refused: exit 73)' },
    wait: { type: 'boolean', default: false, description: 'wait for the pair to be duplex instead of being refused while an update is in progress' },
    timeout: { type: 'string', default: '30s', description: 'give up after this long (500ms, 30s, 2m)', valueName: 'DURATION' },
    ...CONTROL_OPTIONS,
    json: JSON_OPTION,
  },
  details: [
    'Exit status: 0 taken; 75 refused because a remote-copy update is in progress (retry, or use --wait)',
    'or timed out; 73 the name exists (--replace) or the volume has --snapshots-max snapshots (lsa snapshot',
    'delete); 66 no such volume; 77 the control token is wrong; 69 the primary is unreachable, has no',
    'secondary, or the secondary failed. The token comes from --dir (DIR/control.token) or --token-file.',
    'The snapshot is on the secondary: read it over NBD as VOLUME@NAME (port 10812 by default), or',
    'with lsa snapshot export/diff/list --dir on the secondary\'s folder.',
  ].join('\n'),
  async run(ctx) {
    const volumes = volumesOption(ctx);
    const timeoutMs = parseDurationMs(str(ctx, 'timeout'), '--timeout');
    const nameText = optStr(ctx, 'name');
    const name = nameText === undefined ? undefined : checkSnapshotName(nameText);
    const to = controlTarget(ctx);
    const body = { ...(name === undefined ? {} : { name }), wait: flag(ctx, 'wait'), replace: flag(ctx, 'replace'), timeoutMs, volumes: volumes.length > 1 ? volumes : undefined };
    const path = volumes.length === 1 ? `/volumes/${encodeURIComponent(volumes[0])}/snapshots` : '/snapshots';
    const afterFailure = 'if the secondary went down after taking it, lsa snapshot list --dir on the secondary shows it; otherwise nothing new was created';
    const r = await controlRequest(to, {
      method: 'POST', path, what: `snapshot of ${volumes.join(', ')} not taken`, body, timeoutMs: timeoutMs + HTTP_GRACE_MS,
      hints: { LSA_REMOTE: afterFailure, LSA_TIMEOUT: afterFailure },
    });
    const j = r.json;
    const created: SnapshotCreated = {
      name: String(j.name), volumes: (j.volumes as string[]) ?? volumes, location: String(j.location), seq: Number(j.seq), entries: Number(j.entries), durationMs: Number(j.durationMs),
    };
    if (flag(ctx, 'json')) printJson(ctx, created);
    else ctx.out.write(`snapshot ${created.name} of ${created.volumes.join(', ')} taken on the secondary at sequence ${created.seq}: ${created.entries} entries, ${created.durationMs} ms\n  ${created.location}\n`);
    return 0;
  },
};
