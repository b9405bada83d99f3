// Which addresses `lsa serve` may listen on. Loopback (127.0.0.0/8, ::1, localhost) and Unix
// sockets (unix:/path, whose file mode decides who may connect) are this machine's; any other
// address exposes what it serves to whoever can reach the machine, so it is refused unless
// --allow-remote says it is meant, and then logged with one warn line naming what is exposed.

import { InvalidArgumentError } from '../errors';
import { isLoopbackHost } from '../util/loopback';
import type { Logger } from '../util/log';
import type { OptionSpec } from './command';

export const ALLOW_REMOTE_OPTION: OptionSpec = {
  type: 'boolean',
  default: false,
  description: 'allow --nbd, --control and --replica-listen on addresses other than loopback (they are then reachable from the network: see docs/SECURITY.md)',
};

export interface Listener {
  /** The option, as the user wrote it: --nbd. */
  option: string;
  /** Its value: 0.0.0.0:10809, [::]:10809, 10809, unix:/run/lsa.sock. */
  address: string;
  /** What anyone who reaches it gets. */
  exposes: string;
}

/** The host part of a listen address, or null for a Unix socket or a bare port (loopback). */
export function listenHost(address: string): string | null {
  if (address.startsWith('unix:')) return null;
  if (/^\d+$/.test(address)) return null;
  const v6 = /^\[([^\]]*)\](?::\d+)?$/.exec(address);
  if (v6) return v6[1];
  const i = address.lastIndexOf(':');
  const host = i < 0 ? address : address.slice(0, i);
  return host === '' ? null : host;
}

export function isLocalListener(address: string): boolean {
  const host = listenHost(address);
  return host === null || isLoopbackHost(host);
}

/** Refuses listeners beyond loopback unless `allowRemote`; with it, one warn line for all. */
export function checkListeners(listeners: Listener[], allowRemote: boolean, log: Logger | null, fix = 'add --allow-remote if that is what you want'): void {
  const remote = listeners.filter((l) => !isLocalListener(l.address));
  if (remote.length === 0) return;
  if (!allowRemote) {
    const l = remote[0];
    throw new InvalidArgumentError(
      `${l.option} ${l.address} is not a loopback address: anyone who can reach this machine would get ${l.exposes}. Listen on 127.0.0.1 (or a unix: socket), or ${fix} (docs/SECURITY.md)`,
      { option: l.option, address: l.address },
    );
  }
  log?.warn(`listening beyond loopback (--allow-remote): ${remote.map((l) => `${l.option} ${l.address} exposes ${l.exposes}`).join('; ')}; see docs/SECURITY.md`);
}
