// lsa up (what `npm start` runs): the whole system on this machine. On first run it creates
// ./volumes/primary (a 1 GiB volume vol0) and ./volumes/secondary with one replication key
// and the primary's control token,
// then starts the secondary and the primary as two processes, waits until the pair is
// duplex, and prints how to use it. Ctrl-C stops both cleanly (primary first). Run again, it
// reuses the volumes.

import * as path from 'node:path';
import { InvalidArgumentError, NotFoundError } from '../../errors';
import { copyFileIfMissing, fileExists, joinPath } from '../../io/files';
import { KEY_FILE, ensureKeyFile } from '../../io/key-file';
import { controlTokenPath, ensureControlToken, readControlToken } from '../../io/control-token';
import { startServerChild, type ServerChild } from '../../io/child-servers';
import { createArray, openArray } from '../../lsa/open-array';
import { parseGcPolicy } from '../../lsa/gc-policy';
import { DEFAULT_CONTROL_PORT } from '../../control/http-api';
import { DEFAULT_DIR, optStr, str, type Command } from '../command';
import { checkListeners } from '../listen-policy';
import { fetchStatus, doneShare, POLL_MS } from '../pair-status';
import { Progress } from '../progress';
import { DEFAULT_REPLICA_PORT, DEFAULT_SECONDARY_NBD_PORT } from '../replication-setup';
import { GC_POLICY_OPTION, LOG_FORMAT_OPTION, LOG_LEVEL_OPTION, nbdUri, parseListenAddress } from '../serve-session';

const FIRST_VOLUME = 'vol0';
const FIRST_VOLUME_BYTES = 1024 ** 3;
/** 5 sparse disks of 512 MiB (4 data + parity) hold the 1 GiB volume with room to spare. */
const FIRST_DISK_BYTES = 512 * 1024 ** 2;
const DUPLEX_WAIT_MS = 120_000;

async function ensureArray(dir: string, volume: boolean, gcPolicy: string | undefined, say: (s: string) => void): Promise<void> {
  try {
    const e = await openArray(dir, { gcPolicy: false });
    await e.close();
    return;
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
  const e = await createArray(dir, {
    geometry: { diskBytes: FIRST_DISK_BYTES },
    gcPolicy: gcPolicy === undefined ? undefined : parseGcPolicy(gcPolicy),
    volume: volume ? { name: FIRST_VOLUME, capacityBytes: FIRST_VOLUME_BYTES } : null,
  });
  await e.close();
  say(`created ${dir}${volume ? ` with volume ${FIRST_VOLUME} (1GiB)` : ' (volumes come from the primary)'}`);
}

interface GuideFacts {
  primaryDir: string;
  secondaryDir: string;
  mode: string;
  nbd: { host: string; port: number };
  secondaryNbd: { host: string; port: number };
  control: string;
  tokenFile: string;
}

/** Quoted for a POSIX shell when it needs to be. */
function shellWord(text: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The CLI as a shell in this folder reaches it: ./bin/lsa at the top of the repository (where
 * npm start runs; `npx lsa` would make npm install the project into its own cache first). */
function lsaCommand(): string {
  const bin = path.resolve(__dirname, '..', '..', '..', '..', 'bin', 'lsa');
  const rel = path.relative(process.cwd(), bin);
  return shellWord(rel.startsWith('..') || path.isAbsolute(rel) ? bin : `./${rel}`);
}

/** What to do next: every line is a command that works pasted as printed into a shell in the
 * folder lsa up ran in, with what it does after a #. The CLI finds the control token through
 * --dir, whose default is the primary's folder of a default lsa up. */
function guide(f: GuideFacts): string {
  const lsa = lsaCommand();
  const uri = nbdUri(f.nbd.host, f.nbd.port, FIRST_VOLUME);
  const dirArg = path.resolve(f.primaryDir) === path.resolve(DEFAULT_DIR) ? '' : ` --dir ${shellWord(f.primaryDir)}`;
  const controlArg = f.control === `127.0.0.1:${DEFAULT_CONTROL_PORT}` ? '' : ` --control ${f.control}`;
  const snap = nbdUri(f.secondaryNbd.host, f.secondaryNbd.port, `${FIRST_VOLUME}@latest`).replace('%40', '@');
  const lines: [string, string][] = [
    [`qemu-io -f raw ${uri} -c 'write -P 0xab 0 1M' -c 'read -P 0xab 0 1M'`, 'write and read'],
    [`qemu-img convert -n -f raw -O raw disk.img ${uri}`, 'copy a raw image of yours (up to 1GiB) in'],
    [`mkdir -p /tmp/vol0 && nbdfuse /tmp/vol0 ${uri} &`, 'the volume as the file /tmp/vol0/nbd (losetup and mount it)'],
    [`${lsa} status${dirArg}${controlArg}`, `pair state and lag; the CLI sends the token in ${f.tokenFile}`],
    [`${lsa} snapshot create --volume vol0 --wait${dirArg}${controlArg}`, 'taken on the secondary; the primary never pauses'],
    [`qemu-img convert -f raw -O raw ${snap} snap.img`, 'read the snapshot back'],
    [`curl -s -H "Authorization: Bearer $(cat ${shellWord(f.tokenFile)})" http://${f.control}/status`, 'the control API itself'],
    [`${lsa} inspect --dir ${shellWord(f.primaryDir)} --svg array.svg`, `look inside (lsa check --dir ${f.primaryDir} once stopped)`],
  ];
  return [
    '',
    `lsa up: primary ${f.primaryDir} and secondary ${f.secondaryDir} are duplex (${f.mode} remote copy).`,
    'Paste any of these lines into a shell in this folder:',
    ...lines.flatMap(([cmd, what]) => [`  # ${what}`, `  ${cmd}`]),
    '  # Ctrl-C here stops both cleanly.',
    '',
  ].join('\n');
}

export const upCommand: Command = {
  name: 'up',
  summary: 'start everything: a primary and a secondary (created on first run), paired, vol0 over NBD on 127.0.0.1:10809',
  usage: 'lsa up [--dir ./volumes] [--nbd 127.0.0.1:10809] [--mode sync|async] [--gc-policy P] [--log-format text|json] [--log-level info]',
  options: {
    dir: { type: 'string', default: './volumes', description: 'data folder: primary/ and secondary/ inside', valueName: 'DIR' },
    nbd: { type: 'string', default: '127.0.0.1:10809', description: 'the primary\'s NBD address', valueName: 'ADDR' },
    mode: { type: 'string', default: 'sync', description: 'remote copy mode', valueName: 'sync|async' },
    control: { type: 'string', default: `127.0.0.1:${DEFAULT_CONTROL_PORT}`, description: 'the primary\'s control API address', valueName: 'ADDR' },
    'replica-port': { type: 'string', default: String(DEFAULT_REPLICA_PORT), description: 'loopback port of the replication link', valueName: 'PORT' },
    'secondary-nbd': { type: 'string', default: `127.0.0.1:${DEFAULT_SECONDARY_NBD_PORT}`, description: 'the secondary\'s NBD address (read-only volumes and snapshots)', valueName: 'ADDR' },
    'gc-policy': GC_POLICY_OPTION,
    'log-format': LOG_FORMAT_OPTION,
    'log-level': LOG_LEVEL_OPTION,
  },
  details: [
    'Ports: NBD 10809 (primary), control 10810, replication 10811, secondary NBD 10812 (snapshots VOLUME@NAME).',
    'Every address stays on loopback (lsa serve --allow-remote is the way to expose one). The control API',
    'needs DIR/primary/control.token (created here, mode 0600); lsa status and lsa snapshot read it with',
    '--dir DIR/primary, which is their default for the default DIR.',
  ].join('\n'),
  async run(ctx) {
    const root = str(ctx, 'dir');
    const nbd = parseListenAddress(str(ctx, 'nbd'));
    const primaryDir = joinPath(root, 'primary');
    const secondaryDir = joinPath(root, 'secondary');
    const say = (s: string): void => void ctx.out.write(`lsa up: ${s}\n`);
    const gcPolicy = optStr(ctx, 'gc-policy');
    const control = str(ctx, 'control');
    const replicaPort = Number(str(ctx, 'replica-port'));
    if (!Number.isInteger(replicaPort) || replicaPort < 1 || replicaPort > 65535) throw new InvalidArgumentError(`--replica-port must be a port number; got "${str(ctx, 'replica-port')}"`);
    const secondaryNbd = parseListenAddress(str(ctx, 'secondary-nbd'));
    if (nbd.port === 0 || secondaryNbd.port === 0) throw new InvalidArgumentError('lsa up needs fixed ports (it prints them in its guide); pick free ones instead of 0');
    // lsa up is the quick start on one machine: it never listens beyond loopback
    checkListeners([
      { option: '--nbd', address: str(ctx, 'nbd'), exposes: 'every volume, read and write, with no credential' },
      { option: '--control', address: control, exposes: 'the control API' },
      { option: '--secondary-nbd', address: str(ctx, 'secondary-nbd'), exposes: 'the snapshots, read-only, with no credential' },
    ], false, null, 'start the servers with lsa serve --allow-remote');
    await ensureArray(primaryDir, true, gcPolicy, say);
    await ensureArray(secondaryDir, false, gcPolicy, say);
    ensureKeyFile(joinPath(primaryDir, KEY_FILE));
    if (!fileExists(joinPath(secondaryDir, KEY_FILE))) copyFileIfMissing(joinPath(primaryDir, KEY_FILE), joinPath(secondaryDir, KEY_FILE));
    const tokenFile = controlTokenPath(primaryDir);
    if (ensureControlToken(tokenFile)) say(`created the control token ${tokenFile} (mode 0600)`);
    const token = readControlToken(tokenFile);
    const cli = path.resolve(__dirname, '..', 'main.js');
    const common = ['--log-format', str(ctx, 'log-format'), '--log-level', str(ctx, 'log-level'), ...(gcPolicy ? ['--gc-policy', gcPolicy] : [])];
    const log = (line: string): void => void ctx.err.write(line + '\n');
    const secondary = startServerChild('secondary', cli, ['serve', '--dir', secondaryDir, '--replica-listen', `127.0.0.1:${replicaPort}`, '--nbd', `${secondaryNbd.host}:${secondaryNbd.port}`, ...common], log);
    const primary = startServerChild('primary', cli, [
      'serve', '--dir', primaryDir, '--secondary', `127.0.0.1:${replicaPort}`, '--mode', str(ctx, 'mode'),
      '--nbd', `${nbd.host}:${nbd.port}`, '--control', control, ...common,
    ], log);
    const children: ServerChild[] = [primary, secondary];
    let stopping = false;
    const stopAll = async (): Promise<void> => {
      if (stopping) return;
      stopping = true;
      await primary.stop(); // the primary first: it flushes, then the secondary has everything
      await secondary.stop();
    };
    const died = Promise.race(children.map((c) => c.exited.then((code) => ({ c, code }))));
    const onSignal = (): void => void stopAll();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const deadline = Date.now() + DUPLEX_WAIT_MS;
      let ready = false;
      // the initial copy of a big volume (or a resync after a stop) takes a while: show it
      const progress = new Progress('pair', false);
      const outOfSync = new Map<string, number>();
      while (!ready && !stopping && Date.now() < deadline) {
        const early = await Promise.race([died.then((d) => d), new Promise<null>((r) => setTimeout(() => r(null), POLL_MS))]);
        if (early) break;
        try {
          const s = await fetchStatus({ address: control, token });
          for (const v of s.volumes) outOfSync.set(v.volume, Math.max(outOfSync.get(v.volume) ?? 0, v.outOfSyncTracks));
          ready = s.volumes.length > 0 && s.volumes.every((v) => v.state === 'duplex');
          if (!ready) progress.update(doneShare(s, outOfSync), 1, [...new Set(s.volumes.map((v) => v.state))].join(', '));
        } catch {
          // not listening yet
        }
      }
      progress.done();
      if (ready) {
        ctx.out.write(guide({ primaryDir, secondaryDir, mode: str(ctx, 'mode'), nbd, control, secondaryNbd, tokenFile }));
      } else if (!stopping) {
        say('the pair did not come up; stopping (see the log lines above)');
        await stopAll();
        return 1;
      }
      const first = await died;
      if (!stopping) {
        say(`${first.c.name} exited unexpectedly (code ${first.code}); stopping the other`);
        await stopAll();
        return 1;
      }
      await Promise.all(children.map((c) => c.exited));
      say('stopped');
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
