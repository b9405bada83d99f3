// The snapshot commands that change or read data (export, delete) open the secondary's array
// themselves; this says clearly when a running server holds it, and what to do instead.

import { InUseError } from '../errors';
import { LockFile } from '../io/lock-file';
import type { LsaEngine } from '../lsa/engine';
import { openArray } from '../lsa/open-array';
import { SnapshotStore, snapshotPins } from '../snapshot/snapshot-store';
import { createLogger } from '../util/log';
import type { CommandContext, OptionSpec } from './command';

export const DEFAULT_SECONDARY_DIR = './volumes/secondary';
export const SECONDARY_DIR_OPTION: OptionSpec = { type: 'string', default: DEFAULT_SECONDARY_DIR, description: 'the secondary\'s array folder (where the snapshots are)', valueName: 'DIR' };

/** Opens the array (no collector: the command is short) and its snapshots, runs `body`, closes. */
export async function withSnapshots<T>(ctx: CommandContext, dir: string, insteadWhenServed: string, body: (engine: LsaEngine, store: SnapshotStore) => Promise<T>): Promise<T> {
  let engine: LsaEngine;
  try {
    engine = await openArray(dir, { gcPolicy: false, pins: snapshotPins(createLogger('snapshot', { format: 'text', level: 'warn', stream: ctx.err })) });
  } catch (err) {
    if (!(err instanceof InUseError)) throw err;
    const pid = LockFile.holder(dir);
    throw new InUseError(`the array in ${dir} is held by a running server${pid ? ` (PID ${pid})` : ''}, so this command cannot open it. ${insteadWhenServed}`, { dir, pid });
  }
  try {
    return await body(engine, SnapshotStore.of(engine));
  } finally {
    await engine.close();
  }
}
