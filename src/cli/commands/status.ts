import { TryAgainError } from '../../errors';
import { parseDurationMs } from '../../util/duration';
import { formatApprox } from '../../util/size';
import { JSON_OPTION, QUIET_OPTION, flag, printJson, str, type Command } from '../command';
import { CONTROL_OPTIONS, controlTarget, type ControlTarget } from '../control-client';
import { POLL_MS, doneShare, fetchStatus, isDuplex, type StatusReply } from '../pair-status';
import { Progress } from '../progress';

/** Polls until every volume is duplex with nothing in flight, drawing progress on a TTY. */
async function waitDuplex(control: ControlTarget, timeoutMs: number, quiet: boolean): Promise<StatusReply> {
  const progress = new Progress('pair', quiet);
  const start = new Map<string, number>();
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const s = await fetchStatus(control);
      for (const v of s.volumes) start.set(v.volume, Math.max(start.get(v.volume) ?? 0, v.outOfSyncTracks));
      if (isDuplex(s)) return s;
      const states = [...new Set(s.volumes.map((v) => v.state))].join(', ');
      progress.update(doneShare(s, start), 1, `${states}${s.connected ? '' : ' (secondary not connected)'}`);
      if (Date.now() >= deadline) {
        throw new TryAgainError(`the pair is not duplex after ${timeoutMs} ms (${states}); see lsa status --control ${control.address}, or wait longer with --timeout`, { states });
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    progress.done();
  }
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'remote copy status of every volume of a running primary (pair state, lag, out-of-sync tracks)',
  usage: 'lsa status [--control 127.0.0.1:10810] [--dir volumes/primary | --token-file F] [--wait [--timeout 10m]] [--json]',
  options: {
    ...CONTROL_OPTIONS,
    wait: { type: 'boolean', default: false, description: 'wait until every volume is duplex with nothing in flight (initial copy or resync done), with progress on a terminal; exit 75 on --timeout' },
    timeout: { type: 'string', default: '10m', description: 'how long --wait waits (500ms, 30s, 2m)', valueName: 'DURATION' },
    json: JSON_OPTION,
    quiet: QUIET_OPTION,
  },
  details: [
    'The control API needs the primary\'s token: it is read from DIR/control.token (--dir, by default',
    './volumes/primary: where npm start puts it) or --token-file. Exit 66 without one, 77 when it is wrong.',
  ].join('\n'),
  async run(ctx) {
    const control = controlTarget(ctx);
    const timeoutMs = parseDurationMs(str(ctx, 'timeout'), '--timeout');
    const json = flag(ctx, 'json');
    const s = flag(ctx, 'wait') ? await waitDuplex(control, timeoutMs, json || flag(ctx, 'quiet')) : await fetchStatus(control);
    if (json) {
      printJson(ctx, s.volumes.map(({ volume, state, mode, lagSeq, lagBytes, outOfSyncTracks, lastAppliedSeq, copyProgress, bytesShipped, error }) => ({
        volume, state, mode, lagSeq, lagBytes, outOfSyncTracks, lastAppliedSeq, copyProgress, bytesShipped: bytesShipped ?? 0, error: error ?? null,
      })));
      return 0;
    }
    ctx.out.write(`${String(s.role)} ${String(s.dir)}: secondary ${s.connected ? 'connected' : 'not connected'}\n`);
    for (const p of s.volumes) {
      const notes = [p.tracking ? 'lag bound hit: tracking out-of-sync tracks' : '', p.error ?? ''].filter(Boolean).join('; ');
      ctx.out.write(`  ${p.volume.padEnd(12)} ${p.state.padEnd(15)} ${String(p.mode ?? '-').padEnd(5)} lag ${p.lagSeq} seq / ${formatApprox(p.lagBytes)}  out-of-sync ${p.outOfSyncTracks} tracks  applied ${p.lastAppliedSeq}  copy ${(p.copyProgress * 100).toFixed(1)}%${notes ? `  (${notes})` : ''}\n`);
    }
    return 0;
  },
};
