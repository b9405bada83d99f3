// lsa snapshot restore: brings a primary volume back to a snapshot of the secondary, through
// the pair (the primary reads the snapshot from the secondary and writes what differs; the
// writes replicate back). The primary keeps serving meanwhile.

import { formatApprox } from '../../util/size';
import { parseDurationMs } from '../../util/duration';
import { JSON_OPTION, flag, printJson, str, type Command } from '../command';
import { CONTROL_OPTIONS, controlRequest, controlTarget } from '../control-client';
import { snapshotNameOf, volumeNameOf } from '../names';

const HTTP_GRACE_MS = 15_000;

export const snapshotRestoreCommand: Command = {
  name: 'snapshot restore',
  summary: 'bring a primary volume back to a snapshot held by the secondary (through the pair; the primary keeps serving)',
  usage: 'lsa snapshot restore --volume vol0 --name NAME [--timeout 1h] [--control 127.0.0.1:10810] [--dir volumes/primary | --token-file F] [--json]',
  options: {
    volume: { type: 'string', description: 'primary volume to restore', valueName: 'NAME' },
    name: { type: 'string', description: 'snapshot of that volume on the secondary', valueName: 'NAME' },
    timeout: { type: 'string', default: '1h', description: 'give up after this long (30s, 10m, 1h)', valueName: 'DURATION' },
    ...CONTROL_OPTIONS,
    json: JSON_OPTION,
  },
  details: [
    'Only the tracks that differ from the snapshot are written (or trimmed). Host writes to the volume',
    'during the restore race it: stop the host first if the volume must equal the snapshot exactly.',
    'A restore that fails half way leaves a mix of old and restored tracks: run it again.',
  ].join('\n'),
  async run(ctx) {
    const volume = volumeNameOf(ctx);
    const name = snapshotNameOf(ctx);
    const timeoutMs = parseDurationMs(str(ctx, 'timeout'), '--timeout');
    const to = controlTarget(ctx);
    const r = await controlRequest(to, { method: 'POST', path: `/volumes/${encodeURIComponent(volume)}/restore`, what: `restore of ${volume}`, body: { name, timeoutMs }, timeoutMs: timeoutMs + HTTP_GRACE_MS });
    const j = r.json as Record<string, number | string>;
    if (flag(ctx, 'json')) printJson(ctx, j);
    else {
      ctx.out.write(`restored ${volume} to snapshot ${name} (sequence ${j.seq}) in ${j.durationMs} ms: ${formatApprox(Number(j.bytesWritten))} written, ${formatApprox(Number(j.bytesTrimmed))} trimmed, ${formatApprox(Number(j.bytesUnchanged))} already equal\n`);
    }
    return 0;
  },
};
