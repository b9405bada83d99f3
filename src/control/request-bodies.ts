// The edge of the control API: each request body checked once, into the typed asks of
// src/snapshot/primary-snapshots.ts (which then only meets clean input).
//
//   POST /volumes/:name/snapshots  {name?, wait?, timeoutMs?, replace?, volumes?: [more]}
//   POST /snapshots                {volumes: [...], name?, wait?, timeoutMs?, replace?}
//   POST /volumes/:name/restore    {name, timeoutMs?}

import { InvalidArgumentError } from '../errors';
import type { SnapshotAsk } from '../snapshot/primary-snapshots';
import { SNAPSHOT_NAME } from '../snapshot/snapshot-store';
import { VOLUME_NAME } from '../lsa/volumes';

const SNAPSHOT_TIMEOUT_MS_DEFAULT = 30_000;
const SNAPSHOT_TIMEOUT_MS_MAX = 3_600_000;
const RESTORE_TIMEOUT_MS_DEFAULT = 3_600_000;
const RESTORE_TIMEOUT_MS_MAX = 24 * 3_600_000;
/** Volumes of one consistency group. */
const GROUP_VOLUMES_MAX = 256;

function timeout(v: unknown, fallback: number, max: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new InvalidArgumentError('timeoutMs must be a positive number of milliseconds');
  return Math.min(v, max);
}

function flagField(body: Record<string, unknown>, key: string): boolean {
  const v = body[key];
  if (v !== undefined && typeof v !== 'boolean') throw new InvalidArgumentError(`"${key}" must be true or false`);
  return v === true;
}

function volumeList(v: unknown): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > GROUP_VOLUMES_MAX || !v.every((x) => typeof x === 'string' && VOLUME_NAME.test(x))) {
    throw new InvalidArgumentError(`"volumes" must be a list of up to ${GROUP_VOLUMES_MAX} volume names`);
  }
  return v as string[];
}

/** A snapshot request; `pathVolume` from /volumes/:name/snapshots. */
export function snapshotAsk(body: Record<string, unknown>, pathVolume: string | null): SnapshotAsk {
  const more = volumeList(body.volumes);
  const volumes = pathVolume === null ? more : [pathVolume, ...more];
  if (volumes.length === 0) throw new InvalidArgumentError('name the volumes: {"volumes": ["vol0"]}');
  const name = body.name;
  if (name !== undefined && (typeof name !== 'string' || !SNAPSHOT_NAME.test(name))) throw new InvalidArgumentError('snapshot name: 1 to 64 letters, digits, ".", "_" or "-"');
  return {
    volumes,
    ...(name === undefined ? {} : { name: name as string }),
    wait: flagField(body, 'wait'),
    replace: flagField(body, 'replace'),
    timeoutMs: timeout(body.timeoutMs, SNAPSHOT_TIMEOUT_MS_DEFAULT, SNAPSHOT_TIMEOUT_MS_MAX),
  };
}

export function restoreAsk(body: Record<string, unknown>): { name: string; timeoutMs: number } {
  const name = body.name;
  if (typeof name !== 'string' || !SNAPSHOT_NAME.test(name)) throw new InvalidArgumentError('name the snapshot: {"name": "latest"}');
  return { name, timeoutMs: timeout(body.timeoutMs, RESTORE_TIMEOUT_MS_DEFAULT, RESTORE_TIMEOUT_MS_MAX) };
}
