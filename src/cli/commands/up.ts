// lsa up (what `npm start` runs): the whole system on this machine. Today: the primary array
// in ./volumes/primary (created on first run with a 1 GiB volume vol0), served over NBD.

import { NotFoundError } from '../../errors';
import type { LsaEngine } from '../../lsa/engine';
import { createArray, openArray } from '../../lsa/open-array';
import type { GcPolicyName } from '../../lsa/gc-policy';
import type { Logger } from '../../util/log';
import { DIR_OPTION, str, type Command } from '../command';
import { GC_POLICY_OPTION, LOG_FORMAT_OPTION, LOG_LEVEL_OPTION, NBD_OPTION, describeExports, gcPolicyFrom, loggerFrom, nbdUri, parseListenAddress, serveUntilSignal } from '../serve-session';

const FIRST_VOLUME = 'vol0';
const FIRST_VOLUME_BYTES = 1024 ** 3;
/** 5 sparse disks of 512 MiB (4 data + parity) hold the 1 GiB volume with room to spare. */
const FIRST_DISK_BYTES = 512 * 1024 ** 2;

async function openOrCreate(dir: string, log: Logger, gcPolicy: GcPolicyName | undefined): Promise<LsaEngine> {
  try {
    return await openArray(dir, { gcPolicy });
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
  const engine = await createArray(dir, { geometry: { diskBytes: FIRST_DISK_BYTES }, gcPolicy, volume: { name: FIRST_VOLUME, capacityBytes: FIRST_VOLUME_BYTES } });
  log.info(`created an array in ${dir} with volume ${FIRST_VOLUME} (1GiB)`);
  return engine;
}

export const upCommand: Command = {
  name: 'up',
  summary: 'start everything: create ./volumes/primary with a 1 GiB volume vol0 if missing, then serve it over NBD',
  usage: 'lsa up [--dir DIR] [--nbd 127.0.0.1:10809] [--gc-policy P] [--log-format text|json] [--log-level info]',
  options: {
    dir: DIR_OPTION,
    nbd: NBD_OPTION,
    'gc-policy': GC_POLICY_OPTION,
    'log-format': LOG_FORMAT_OPTION,
    'log-level': LOG_LEVEL_OPTION,
  },
  details: 'Ctrl-C (SIGINT) or SIGTERM stops cleanly: in-flight requests finish, everything is flushed.',
  async run(ctx) {
    const address = parseListenAddress(str(ctx, 'nbd'));
    const log = loggerFrom(ctx, 'lsa');
    const dir = str(ctx, 'dir');
    const engine = await openOrCreate(dir, log, gcPolicyFrom(ctx));
    return serveUntilSignal(engine, {
      address,
      readOnly: false,
      log,
      onListening: (server, host, port) => {
        const exports = describeExports(server);
        const first = server.exports.resolve('')?.name ?? FIRST_VOLUME;
        const uri = nbdUri(host, port, first);
        ctx.out.write([
          `lsa up: serving ${dir} over NBD on ${host}:${port}`,
          `  exports: ${exports.join(', ') || '(none)'}`,
          '  connect with:',
          `    qemu-io -f raw ${uri} -c 'write -P 0xab 0 1M' -c 'read -P 0xab 0 1M'`,
          `    qemu-img convert -n -f raw -O raw disk.img ${uri}`,
          `    nbdinfo ${uri}        nbdinfo --map ${uri}`,
          `    mkdir -p /tmp/${first} && nbdfuse /tmp/${first} ${uri} &     (the disk is then /tmp/${first}/nbd)`,
          '  Ctrl-C stops cleanly (in-flight requests finish, everything is flushed).',
          '',
        ].join('\n'));
      },
    });
  },
};
