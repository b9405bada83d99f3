// lsa snapshot create: asks the primary (control API) for a snapshot of one volume, or of
// several as one consistency group; the secondary takes it at a barrier, the primary never
// pauses. Refused with exit 75 while a remote-copy update is in progress, unless --wait.

import { InvalidArgumentError, TryAgainError } from '../../errors';
import { parseDurationMs } from '../../util/duration';
import { JSON_OPTION, flag, optStr, printJson, str, type Command } from '../command';
import { CONTROL_OPTION, ControlError, controlRequest } from '../control-client';

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
  return list;
}

export const snapshotCreateCommand: Command = {
  name: 'snapshot create',
  summary: 'take a snapshot on the secondary through the primary (several --volume: one consistency group)',
  usage: 'lsa snapshot create --volume vol0 [--volume vol1 ...] [--name NAME] [--wait] [--timeout 30s] [--control 127.0.0.1:10810] [--json]',
  options: {
    volume: { type: 'string', multiple: true, description: 'volume to snapshot (repeat for a consistency group: one instant for all)', valueName: 'NAME' },
    name: { type: 'string', description: 'snapshot name (default: latest, replacing the previous latest)', valueName: 'NAME' },
    wait: { type: 'boolean', default: false, description: 'wait for the pair to be duplex instead of being refused while an update is in progress' },
    timeout: { type: 'string', default: '30s', description: 'give up after this long (500ms, 30s, 2m)', valueName: 'DURATION' },
    control: CONTROL_OPTION,
    json: JSON_OPTION,
  },
  details: [
    'Exit status: 0 taken; 75 refused because a remote-copy update is in progress (retry, or use --wait);',
    '69 the primary is unreachable, has no secondary, timed out or the secondary failed.',
    'The snapshot is on the secondary: read it over NBD as VOLUME@NAME (port 10812 by default), or',
    'with lsa snapshot export/diff/list --dir on the secondary\'s folder.',
  ].join('\n'),
  async run(ctx) {
    const volumes = volumesOption(ctx);
    const timeoutMs = parseDurationMs(str(ctx, 'timeout'), '--timeout');
    const name = optStr(ctx, 'name');
    const body = { ...(name === undefined ? {} : { name }), wait: flag(ctx, 'wait'), timeoutMs, volumes: volumes.length > 1 ? volumes : undefined };
    const path = volumes.length === 1 ? `/volumes/${encodeURIComponent(volumes[0])}/snapshots` : '/snapshots';
    const r = await controlRequest(str(ctx, 'control'), 'POST', path, body, timeoutMs + HTTP_GRACE_MS);
    if (r.status === 409 && r.json.code === 'REMOTE_COPY_IN_PROGRESS') {
      throw new TryAgainError('remote copy in progress; retry, or use --wait', { volumes });
    }
    if (r.status !== 201) {
      const why = String(r.json.error ?? `HTTP ${r.status}`);
      const hint = r.json.code === 'SNAPSHOT_FAILED' ? ' (if the secondary went down after taking it, lsa snapshot list --dir on the secondary shows it; otherwise nothing new was created)' : '';
      throw new ControlError(`snapshot of ${volumes.join(', ')} not taken: ${why}${hint}`, r.status, { code: r.json.code });
    }
    const j = r.json;
    const created: SnapshotCreated = {
      name: String(j.name), volumes: (j.volumes as string[]) ?? volumes, location: String(j.location), seq: Number(j.seq), entries: Number(j.entries), durationMs: Number(j.durationMs),
    };
    if (flag(ctx, 'json')) printJson(ctx, created);
    else ctx.out.write(`snapshot ${created.name} of ${created.volumes.join(', ')} taken on the secondary at sequence ${created.seq}: ${created.entries} entries, ${created.durationMs} ms\n  ${created.location}\n`);
    return 0;
  },
};
