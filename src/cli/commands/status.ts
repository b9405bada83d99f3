import { formatApprox } from '../../util/size';
import { JSON_OPTION, flag, printJson, str, type Command } from '../command';
import { CONTROL_OPTION, ControlError, controlRequest } from '../control-client';

interface PairRow {
  volume: string; state: string; mode: string | null; lagSeq: number; lagBytes: number; outOfSyncTracks: number;
  lastAppliedSeq: number; copyProgress: number; tracking?: boolean; error?: string | null; bytesShipped?: number;
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'remote copy status of every volume of a running primary (pair state, lag, out-of-sync tracks)',
  usage: 'lsa status [--control 127.0.0.1:10810] [--json]',
  options: { control: CONTROL_OPTION, json: JSON_OPTION },
  async run(ctx) {
    const r = await controlRequest(str(ctx, 'control'), 'GET', '/status');
    if (r.status !== 200) throw new ControlError(`status: ${String(r.json.error ?? r.status)}`, r.status);
    const rows = (r.json.volumes ?? []) as PairRow[];
    if (flag(ctx, 'json')) {
      printJson(ctx, rows.map(({ volume, state, mode, lagSeq, lagBytes, outOfSyncTracks, lastAppliedSeq, copyProgress, bytesShipped, error }) => ({
        volume, state, mode, lagSeq, lagBytes, outOfSyncTracks, lastAppliedSeq, copyProgress, bytesShipped: bytesShipped ?? 0, error: error ?? null,
      })));
      return 0;
    }
    ctx.out.write(`${String(r.json.role)} ${String(r.json.dir)}: secondary ${r.json.connected ? 'connected' : 'not connected'}\n`);
    for (const p of rows) {
      const notes = [p.tracking ? 'lag bound hit: tracking out-of-sync tracks' : '', p.error ?? ''].filter(Boolean).join('; ');
      ctx.out.write(`  ${p.volume.padEnd(12)} ${p.state.padEnd(15)} ${String(p.mode ?? '-').padEnd(5)} lag ${p.lagSeq} seq / ${formatApprox(p.lagBytes)}  out-of-sync ${p.outOfSyncTracks} tracks  applied ${p.lastAppliedSeq}  copy ${(p.copyProgress * 100).toFixed(1)}%${notes ? `  (${notes})` : ''}\n`);
    }
    return 0;
  },
};
