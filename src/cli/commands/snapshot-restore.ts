// lsa snapshot restore: brings a primary volume back to a snapshot of the secondary, through
// the pair (the primary reads the snapshot from the secondary and writes what differs; the
// writes replicate back). The primary keeps serving meanwhile.

import { TryAgainError } from '../../errors';
import { formatApprox } from '../../util/size';
import { parseDurationMs } from '../../util/duration';
import { JSON_OPTION, flag, printJson, str, type Command } from '../command';
import { CONTROL_OPTION, ControlError, controlRequest } from '../control-client';

const HTTP_GRACE_MS = 15_000;

export const snapshotRestoreCommand: Command = {
  name: 'snapshot restore',
  summary: 'bring a primary volume back to a snapshot held by the secondary (through the pair; the primary keeps serving)',
  usage: 'lsa snapshot restore --volume vol0 --name NAME [--timeout 1h] [--control 127.0.0.1:10810] [--json]',
  options: {
    volume: { type: 'string', description: 'primary volume to restore', valueName: 'NAME' },
    name: { type: 'string', description: 'snapshot of that volume on the secondary', valueName: 'NAME' },
    timeout: { type: 'string', default: '1h', description: 'give up after this long (30s, 10m, 1h)', valueName: 'DURATION' },
    control: CONTROL_OPTION,
    json: JSON_OPTION,
  },
  details: [
    'Only the tracks that differ from the snapshot are written (or trimmed). Host writes to the volume',
    'during the restore race it: stop the host first if the volume must equal the snapshot exactly.',
    'A restore that fails half way leaves a mix of old and restored tracks: run it again.',
  ].join('\n'),
  async run(ctx) {
    const volume = str(ctx, 'volume');
    const name = str(ctx, 'name');
    const timeoutMs = parseDurationMs(str(ctx, 'timeout'), '--timeout');
    const r = await controlRequest(str(ctx, 'control'), 'POST', `/volumes/${encodeURIComponent(volume)}/restore`, { name, timeoutMs }, timeoutMs + HTTP_GRACE_MS);
    if (r.status === 409 && r.json.code === 'RESTORE_IN_PROGRESS') throw new TryAgainError(String(r.json.error));
    if (r.status !== 200) throw new ControlError(`restore of ${volume}: ${String(r.json.error ?? `HTTP ${r.status}`)}`, r.status, { code: r.json.code });
    const j = r.json as Record<string, number | string>;
    if (flag(ctx, 'json')) printJson(ctx, j);
    else {
      ctx.out.write(`restored ${volume} to snapshot ${name} (sequence ${j.seq}) in ${j.durationMs} ms: ${formatApprox(Number(j.bytesWritten))} written, ${formatApprox(Number(j.bytesTrimmed))} trimmed, ${formatApprox(Number(j.bytesUnchanged))} already equal\n`);
    }
    return 0;
  },
};
