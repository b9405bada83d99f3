// Volume and snapshot names from the command line, checked before they are used anywhere (a
// name becomes part of a path: snapshots/<volume>/<name>.snap, so "../x" must never get
// through).

import { InvalidArgumentError } from '../errors';
import { VOLUME_NAME } from '../lsa/volumes';
import { SNAPSHOT_NAME } from '../snapshot/snapshot-store';
import { str, type CommandContext } from './command';

const RULE = '1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit';

export function checkVolumeName(text: string, option = '--volume'): string {
  if (!VOLUME_NAME.test(text)) throw new InvalidArgumentError(`${option} "${text}" is not a volume name (${RULE})`, { name: text });
  return text;
}

export function checkSnapshotName(text: string, option = '--name'): string {
  if (!SNAPSHOT_NAME.test(text)) throw new InvalidArgumentError(`${option} "${text}" is not a snapshot name (${RULE})`, { name: text });
  return text;
}

/** The required option `name`, checked as a volume name. */
export function volumeNameOf(ctx: CommandContext, name = 'volume'): string {
  return checkVolumeName(str(ctx, name), `--${name}`);
}

/** The required option `name`, checked as a snapshot name. */
export function snapshotNameOf(ctx: CommandContext, name = 'name'): string {
  return checkSnapshotName(str(ctx, name), `--${name}`);
}
