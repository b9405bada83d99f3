// lsa serve: an NBD server in the process that holds the array.

import { openArray } from '../../lsa/open-array';
import { snapshotPins } from '../../snapshot/snapshot-store';
import { DIR_OPTION, flag, optStr, str, type Command } from '../command';
import { DEFAULT_CONTROL_PORT } from '../../control/http-api';
import { ALLOW_REMOTE_OPTION, checkListeners, type Listener } from '../listen-policy';
import { DEFAULT_SECONDARY_NBD_PORT, REPLICATION_OPTIONS, isSecondary, planReplication, snapshotsMaxOf, type ReplicationPlan } from '../replication-setup';
import { GC_POLICY_OPTION, LOG_FORMAT_OPTION, LOG_LEVEL_OPTION, NBD_OPTION, describeExports, gcPolicyFrom, loggerFrom, parseListenAddress, serveUntilSignal } from '../serve-session';

/** What each listener of this server would expose beyond loopback. */
function listenersOf(ctx: Parameters<Command['run']>[0], nbdText: string, secondary: boolean): Listener[] {
  const out: Listener[] = [{
    option: '--nbd',
    address: nbdText,
    exposes: flag(ctx, 'read-only') || secondary ? 'every volume (and snapshot) read-only, with no credential' : 'every volume, read and write, with no credential',
  }];
  const control = optStr(ctx, 'control') ?? (optStr(ctx, 'secondary') ? `127.0.0.1:${DEFAULT_CONTROL_PORT}` : undefined);
  if (control !== undefined) out.push({ option: '--control', address: control, exposes: 'the control API (snapshots and restores; each request needs the control token)' });
  const replica = optStr(ctx, 'replica-listen');
  if (replica !== undefined) out.push({ option: '--replica-listen', address: replica, exposes: 'the replication link (a peer must prove it holds the replication key)' });
  return out;
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve the volumes of an array over NBD (export name = volume name) until SIGINT/SIGTERM',
  usage: 'lsa serve [--dir DIR] [--nbd 127.0.0.1:10809] [--read-only] [--gc-policy P] [--secondary HOST:PORT [--mode sync|async] [--control 127.0.0.1:10810] [--token-file F] | --replica-listen HOST:PORT] [--key-file F] [--snapshots-max 64] [--allow-remote] [--log-format text|json] [--log-level info]',
  options: {
    dir: DIR_OPTION,
    nbd: { ...NBD_OPTION, default: undefined, description: `${NBD_OPTION.description} (default 127.0.0.1:10809; 127.0.0.1:${DEFAULT_SECONDARY_NBD_PORT} on a secondary)` },
    ...REPLICATION_OPTIONS,
    'allow-remote': ALLOW_REMOTE_OPTION,
    'exit-with-parent': { type: 'boolean', default: false, description: 'shut down cleanly when stdin closes (lsa up uses it)' },
    'read-only': { type: 'boolean', default: false, description: 'refuse writes, trims and zeroing with EPERM' },
    'gc-policy': GC_POLICY_OPTION,
    'log-format': LOG_FORMAT_OPTION,
    'log-level': LOG_LEVEL_OPTION,
  },
  details: [
    'Clients: qemu-img/qemu-io (always -f raw), nbdinfo, nbdcopy, nbdfuse, fio --ioengine=nbd, nbd-client.',
    'The empty export name is the first volume. FLUSH and FUA are durable; all connections share one',
    'engine (multi-conn is safe). SIGINT/SIGTERM: stop accepting, finish in-flight requests, flush, close.',
    'Every listener is loopback unless --allow-remote: NBD has no credential, the control API needs',
    'DIR/control.token (Authorization: Bearer), the replication link DIR/replication.key. See docs/SECURITY.md.',
  ].join('\n'),
  async run(ctx) {
    if (flag(ctx, 'exit-with-parent')) {
      process.stdin.resume();
      process.stdin.once('end', () => process.kill(process.pid, 'SIGTERM'));
      process.stdin.once('error', () => process.kill(process.pid, 'SIGTERM'));
    }
    const secondary = isSecondary(ctx);
    const nbdText = optStr(ctx, 'nbd') ?? `127.0.0.1:${secondary ? DEFAULT_SECONDARY_NBD_PORT : 10809}`;
    const address = parseListenAddress(nbdText);
    const log = loggerFrom(ctx, 'lsa');
    checkListeners(listenersOf(ctx, nbdText, secondary), flag(ctx, 'allow-remote'), log);
    const dir = str(ctx, 'dir');
    // a secondary's snapshots are loaded with the array, before its collector can run
    const pins = secondary ? snapshotPins(log.child('snapshot'), { snapshotsMax: snapshotsMaxOf(ctx) }) : undefined;
    const engine = await openArray(dir, { gcPolicy: gcPolicyFrom(ctx), log: log.child('engine'), pins });
    if (engine.array.degraded) log.warn('array is degraded: reads of the failed disk are rebuilt from parity', { disks: engine.array.health.map((h, i) => `${i}:${h}`).join(' ') });
    let plan: ReplicationPlan;
    try {
      plan = await planReplication(ctx, engine, dir, log);
    } catch (err) {
      await engine.close();
      throw err;
    }
    const exitWithParent = flag(ctx, 'exit-with-parent');
    return serveUntilSignal(engine, {
      address,
      // a secondary's volumes follow the primary: hosts only read them (and its snapshots)
      readOnly: flag(ctx, 'read-only') || secondary,
      log,
      extraExports: plan.snapshots?.exports() ?? null,
      startServices: () => plan.start(),
      onListening: (server, host, port) => {
        log.info(`serving ${dir}`, { address: host, port, exports: describeExports(server) });
      },
    }).finally(() => {
      if (exitWithParent) process.stdin.destroy(); // the lifeline would keep the process alive
    });
  },
};
