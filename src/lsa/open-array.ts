// Creating and opening an array: disk files, superblocks, NVRAM, and the recovery steps that
// bring the engine back to the last commit after a crash (docs/RECOVERY.md lists them).

import { AlreadyExistsError, CorruptionError, NotFoundError } from '../errors';
import { DiskArray, diskPath } from '../array/disk-array';
import { DEFAULT_GEOMETRY, Layout, type Geometry } from '../array/geometry';
import type { DiskSystem } from '../io/disk-file';
import { realDisks } from '../io/real-disk';
import { systemClock, type Clock } from '../io/clock';
import { ensureDir, ensurePrivateDir, fileExists, joinPath } from '../io/files';
import { LockFile } from '../io/lock-file';
import { LsaEngine, SEQ_GAP_ON_OPEN } from './engine';
import { MemoryNvram, type NvramStore } from './nvram';
import { NVRAM_FILE, SqliteNvram } from './sqlite-nvram';
import { createVolume, defaultCapacity, volumeLabel, type VolumeLabel } from './volumes';
import { checkCompressMode } from './track-codec';
import { Collector } from './collector';
import { DEFAULT_GC_POLICY, parseGcPolicy, type GcPolicyName } from './gc-policy';
import type { RecordPins } from './engine-hooks';
import type { Logger } from '../util/log';

/** The collector of this run, or null (gcPolicy false). */
function makeCollector(engine: LsaEngine, opts: OpenOptions): Collector | null {
  if (opts.gcPolicy === false) return null;
  return new Collector(engine, opts.gcPolicy ?? parseGcPolicy(engine.nvram.meta().get('gcPolicy') ?? DEFAULT_GC_POLICY));
}

/** Plugs in what the options ask for, in this order: the pins (a secondary's snapshots), then
 * the collector, so that no collection ever runs without the pins. If making the pins fails,
 * the engine is closed (as a command that opened it would) and the error thrown. */
async function attachHooks(engine: LsaEngine, collector: Collector | null, opts: OpenOptions): Promise<void> {
  let pins: RecordPins | null = null;
  try {
    pins = opts.pins ? opts.pins(engine) : null;
  } catch (err) {
    engine.attach({});
    await engine.close();
    throw err;
  }
  engine.attach({ pins, roomMaker: collector, placement: collector?.policy.placement });
}

export const FORMAT_VERSION = 1;

export interface OpenOptions {
  disks?: DiskSystem;
  clock?: Clock;
  /** 'sqlite' (default), 'memory' for a fresh in-memory twin, or a store to reuse. */
  nvram?: 'sqlite' | 'memory' | NvramStore;
  /** Take `<dir>/lock` (default true for real disks). */
  lock?: boolean;
  /** Collector policy for this run (default: the array's), or false for no collector. */
  gcPolicy?: GcPolicyName | false;
  /** The engine's logger (default: silent). */
  log?: Logger;
  /** Records kept alive besides the volumes' (a secondary's snapshots: snapshotPins in
   * src/snapshot/snapshot-store.ts), made from the recovered engine before the collector is
   * attached. If it throws, the open fails (the engine is closed first). */
  pins?: (engine: LsaEngine) => RecordPins | null;
}

export interface CreateOptions extends OpenOptions {
  geometry?: Partial<Geometry>;
  /** The first volume; `compress` is its track compression (none, deflate or lz4; default none). */
  volume?: { name: string; capacityBytes?: number; compress?: string } | null;
  /** The array's id (default: a fresh random one); simulations fix it to replay a seed. */
  arrayId?: string;
}

function nvramFor(dir: string, opts: OpenOptions, create: boolean): NvramStore {
  const n = opts.nvram ?? 'sqlite';
  if (n === 'memory') return new MemoryNvram();
  if (n === 'sqlite') {
    const file = joinPath(dir, NVRAM_FILE);
    if (!create && !fileExists(file)) {
      throw new CorruptionError(
        `${file} is missing: the directory of the array is gone. Rebuild it from the disk files with: lsa recover --dir ${dir} --rebuild-directory`,
        { dir },
      );
    }
    return new SqliteNvram(file, create, dir);
  }
  return n;
}

function takeLock(dir: string, opts: OpenOptions): LockFile | null {
  const useLock = opts.lock ?? (opts.disks === undefined || opts.disks === realDisks);
  if (!useLock) return null;
  ensureDir(dir);
  return LockFile.acquire(dir);
}

export async function createArray(dir: string, opts: CreateOptions = {}): Promise<LsaEngine> {
  const disks = opts.disks ?? realDisks;
  const clock = opts.clock ?? systemClock;
  const geometry: Geometry = { ...DEFAULT_GEOMETRY, ...opts.geometry };
  new Layout(geometry); // validates, naming the limit a bad geometry breaks
  if (opts.volume?.compress !== undefined) checkCompressMode(opts.volume.compress); // before any file exists
  if (disks.exists(diskPath(dir, 0)) || (opts.nvram ?? 'sqlite') === 'sqlite' && fileExists(joinPath(dir, NVRAM_FILE))) {
    throw new AlreadyExistsError(`an array exists already in ${dir}; pick another --dir or remove that one first`, { dir });
  }
  // 0700: the array's files are its owner's alone
  if (disks === realDisks) ensurePrivateDir(dir);
  else ensureDir(dir);
  const lock = takeLock(dir, opts);
  let engine: LsaEngine;
  let collector: Collector | null;
  try {
    const array = await DiskArray.create(dir, geometry, disks, { formatVersion: FORMAT_VERSION, volumes: [] } satisfies VolumeLabel, clock.nowMs(), opts.arrayId);
    const nvram = nvramFor(dir, opts, true);
    nvram.commit({
      pages: [],
      segments: [],
      meta: {
        formatVersion: String(FORMAT_VERSION), arrayId: array.arrayId, geometry: JSON.stringify(geometry), nextSeq: '1',
        gcPolicy: opts.gcPolicy || DEFAULT_GC_POLICY,
      },
    });
    engine = new LsaEngine({ dir, array, nvram, clock, lock, log: opts.log });
    collector = makeCollector(engine, opts);
  } catch (err) {
    lock?.release();
    throw err;
  }
  await attachHooks(engine, collector, opts);
  try {
    if (opts.volume) {
      const capacity = opts.volume.capacityBytes ?? defaultCapacity(engine);
      await createVolume(engine, opts.volume.name, capacity, opts.volume.compress ?? 'none');
    }
    return engine;
  } catch (err) {
    lock?.release();
    throw err;
  }
}

export async function openArray(dir: string, opts: OpenOptions = {}): Promise<LsaEngine> {
  const disks = opts.disks ?? realDisks;
  const clock = opts.clock ?? systemClock;
  if (!disks.exists(diskPath(dir, 0)) && !disks.exists(diskPath(dir, 1)) && !fileExists(joinPath(dir, NVRAM_FILE))) {
    throw new NotFoundError(`no array in ${dir} (create one with: lsa init --dir ${dir})`, { dir });
  }
  const lock = takeLock(dir, opts);
  let nvram: NvramStore | null = null;
  let array: DiskArray | null = null;
  let engine: LsaEngine;
  let collector: Collector | null;
  try {
    array = await DiskArray.open(dir, disks);
    nvram = nvramFor(dir, opts, false);
    engine = new LsaEngine({ dir, array, nvram, clock, lock, log: opts.log });
    await recover(engine, nvram, array);
    collector = makeCollector(engine, opts);
  } catch (err) {
    try {
      nvram?.close();
    } catch {
      // keep the first error
    }
    await array?.close().catch(() => undefined);
    lock?.release();
    throw err;
  }
  await attachHooks(engine, collector, opts);
  return engine;
}

/** Recovery on open, in order (docs/RECOVERY.md): check identity, load volumes and directory
 * pages, load the segment table, jump the sequence, resume the open segment, put half-done
 * collections back, and make the superblocks' volume table match NVRAM. */
async function recover(engine: LsaEngine, nvram: NvramStore, array: DiskArray): Promise<void> {
  const meta = nvram.meta();
  const version = Number(meta.get('formatVersion'));
  if (version !== FORMAT_VERSION) {
    throw new CorruptionError(`${nvram.location}: format version ${meta.get('formatVersion')} is not supported (this build reads ${FORMAT_VERSION})`);
  }
  if (meta.get('arrayId') !== array.arrayId) {
    throw new CorruptionError(`${nvram.location} belongs to array ${meta.get('arrayId')}, but the disk files are array ${array.arrayId}`);
  }
  const geometry = JSON.parse(meta.get('geometry') ?? '{}') as Geometry;
  const g = array.geometry;
  if (geometry.disks !== g.disks || geometry.columnBytes !== g.columnBytes || geometry.diskBytes !== g.diskBytes || geometry.trackBytes !== g.trackBytes) {
    throw new CorruptionError(`${nvram.location}: geometry differs from the superblocks`, { nvram: geometry, disks: g });
  }
  for (const row of nvram.volumes()) engine.addVolumeState(row);
  engine.journal.load(nvram, engine.volumesById, nvram.location, engine.dir);
  for (const row of nvram.segments()) engine.segments.load(row);
  engine.noteNvramParity(nvram.paritySegments());
  for (const row of nvram.pendingRows()) engine.pending.load(row);
  const rebuild = meta.get('rebuild');
  if (rebuild) array.markRebuilding((JSON.parse(rebuild) as { disk: number }).disk);
  engine.nextSeq = Number(meta.get('nextSeq') ?? '1') + SEQ_GAP_ON_OPEN;
  const stats = meta.get('stats');
  if (stats) Object.assign(engine.stats, JSON.parse(stats));
  for (const row of engine.segments.rows) {
    // A collection the crash interrupted: with nothing live left it was about to free the
    // segment (which may have been reused since, so its parity means nothing): free it; else
    // its data was never touched: closed again.
    if (row.state === 'collecting') {
      engine.segments.transition(row.index, row.liveBytes === 0 && row.trimRefs === 0 ? 'free' : 'closed');
    }
    if (row.state === 'open') await engine.resumeOpenSegment(row.index, row.fillBytes);
  }
  const want = volumeLabel(engine);
  if (JSON.stringify(want) !== JSON.stringify(array.label)) await array.writeSuperblocks(want);
}

