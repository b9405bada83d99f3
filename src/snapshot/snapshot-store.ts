// The secondary's snapshots: each is a copy of a volume's directory at a barrier sequence,
// kept in memory and in its file. The store pins what the copies point at, so the collector
// keeps those records (and moves them like any live record, updating the copies, which it
// makes durable before it frees the segment they came from). Taking a snapshot copies no data:
// it costs one directory copy, as in the seed.

import * as path from 'node:path';
import { AlreadyExistsError, CorruptionError, InvalidArgumentError, LimitReachedError, NotFoundError, assert } from '../errors';
import { listNested, readWholeFile, removeDurable, removeLeftoverTemporaries, writeFileAtomic } from '../io/durable-files';
import { recomputeAccounting } from '../lsa/accounting';
import { ENTRY_WORDS, VolumeDirectory } from '../lsa/directory';
import type { LsaEngine, VolumeState } from '../lsa/engine';
import type { RecordPins } from '../lsa/engine-hooks';
import { isTrimLike } from '../lsa/record-format';
import { VOLUME_NAME } from '../lsa/volumes';
import type { SnapshotRequest, SnapshotResult } from '../replication/secondary';
import type { Logger } from '../util/log';
import { countAllocated, decodeSnapshot, encodeSnapshot, type SnapshotHeader } from './snapshot-file';
import { SnapshotVolume } from './snapshot-volume';
import { SNAPSHOT_NAME } from './snapshot-check';

export const SNAPSHOT_DIR = 'snapshots';
export const SNAPSHOT_SUFFIX = '.snap';
export { SNAPSHOT_NAME };
/** The name a snapshot gets when the host names none; it replaces itself. */
export const DEFAULT_SNAPSHOT_NAME = 'latest';
/** Snapshots kept per volume unless --snapshots-max says otherwise: each pins the records it
 * points at, so the collector cannot reclaim them. */
export const SNAPSHOTS_MAX_DEFAULT = 64;

export interface Snapshot {
  header: SnapshotHeader;
  dir: VolumeDirectory;
  path: string;
  dirty: boolean;
  /** Replaced by a same-named snapshot but still pinning until released (never written). */
  retired?: boolean;
}

/** Where a snapshot's file is. The names become path parts, so they are checked here too,
 * whoever calls: "../x" never leaves the snapshots folder. */
export function snapshotPath(arrayDir: string, volume: string, name: string): string {
  if (!VOLUME_NAME.test(volume)) throw new InvalidArgumentError(`"${volume}" is not a volume name`, { volume });
  if (!SNAPSHOT_NAME.test(name)) throw new InvalidArgumentError(`"${name}" is not a snapshot name`, { name });
  return path.join(arrayDir, SNAPSHOT_DIR, volume, `${name}${SNAPSHOT_SUFFIX}`);
}

export class SnapshotStore implements RecordPins {
  private byVolume = new Map<number, Map<string, Snapshot>>();
  /** Snapshots being replaced: they pin what they point at until `release` accounts for it. */
  private retiring = new Map<number, Snapshot[]>();
  private writing: Promise<void> = Promise.resolve();
  /** Snapshot files that did not decode when the store opened (skipped). */
  readonly damaged: { path: string; error: string }[] = [];

  private constructor(readonly engine: LsaEngine, readonly log: Logger, readonly snapshotsMax: number) {}

  /** Loads every snapshot file of the array, for openArray's `pins` option: the engine counts
   * what they point at as live from its open on (see snapshotPins). */
  static load(engine: LsaEngine, log: Logger, opts: { snapshotsMax?: number } = {}): SnapshotStore {
    const store = new SnapshotStore(engine, log, opts.snapshotsMax ?? SNAPSHOTS_MAX_DEFAULT);
    // a snapshot file being written when its process died is incomplete: never a snapshot
    const leftovers = removeLeftoverTemporaries(path.join(engine.dir, SNAPSHOT_DIR));
    if (leftovers.length > 0) log.info('removed unfinished snapshot files of a process that died', { files: leftovers.length });
    for (const f of listNested(path.join(engine.dir, SNAPSHOT_DIR), SNAPSHOT_SUFFIX)) {
      const v = engine.volumesByName.get(f.folder);
      if (!v) {
        log.warn('snapshot of a volume this array does not have; ignored', { path: f.path });
        continue;
      }
      let decoded: ReturnType<typeof decodeSnapshot>;
      try {
        decoded = decodeSnapshot(readWholeFile(f.path), f.path, { volume: f.folder, name: f.name, layout: engine.layout });
      } catch (err) {
        if (!(err instanceof CorruptionError)) throw err;
        // one bad file must not keep the secondary (and its other snapshots) down
        log.warn('damaged snapshot file skipped: not served, not pinned; lsa check reports it. Move it away or remove it', { path: f.path, error: err.message });
        store.damaged.push({ path: f.path, error: err.message });
        continue;
      }
      const { header, entries, tracks } = decoded;
      if (tracks !== v.tracks || header.volume !== v.row.name) {
        log.warn('snapshot does not fit its volume; ignored', { path: f.path, tracks, volumeTracks: v.tracks });
        continue;
      }
      const dir = new VolumeDirectory(tracks, false);
      Buffer.from(dir.words.buffer, dir.words.byteOffset, entries.length).set(entries);
      store.register(v, { header, dir, path: f.path, dirty: false });
    }
    if (store.count() > 0) {
      store.reclaimCollected();
      const fixed = recomputeAccounting(engine, store);
      if (fixed > 0) log.info('segment accounting recomputed with the snapshots', { segments: fixed });
    }
    return store;
  }

  /** The store of an engine opened with snapshotPins. */
  static of(engine: LsaEngine): SnapshotStore {
    assert(engine.pins instanceof SnapshotStore, 'the array was opened with its snapshots (snapshotPins)');
    return engine.pins;
  }

  private register(v: VolumeState, s: Snapshot): void {
    let m = this.byVolume.get(v.row.id);
    if (!m) this.byVolume.set(v.row.id, (m = new Map()));
    m.set(s.header.name, s);
  }

  /** A collection the crash interrupted after its commit but before it rewrote the snapshot
   * files left them pointing into segments recovery freed; those were never reused (a victim
   * is released only after the files are durable), so take them back. */
  private reclaimCollected(): void {
    const e = this.engine;
    for (const [, m] of this.byVolume) {
      for (const s of m.values()) {
        for (let t = 0; t < s.dir.tracks; t++) {
          const seg = s.dir.words[t * ENTRY_WORDS];
          if (seg !== 0 && e.segments.row(seg).state === 'free') e.segments.reclaimFreed(seg);
        }
      }
    }
  }

  count(): number {
    let n = 0;
    for (const m of this.byVolume.values()) n += m.size;
    return n;
  }

  list(): { volume: string; name: string; seq: number; createdAtMs: number; entries: number; location: string }[] {
    const out = [];
    for (const m of this.byVolume.values()) {
      for (const s of m.values()) {
        out.push({ volume: s.header.volume, name: s.header.name, seq: s.header.barrierSeq, createdAtMs: s.header.createdAtMs, entries: s.header.allocatedEntries, location: s.path });
      }
    }
    return out.sort((a, b) => a.volume.localeCompare(b.volume) || a.createdAtMs - b.createdAtMs);
  }

  /** NBD exports VOLUME@NAME, read-only. */
  exports(): { resolve(name: string): SnapshotVolume | null; names(): string[] } {
    return {
      resolve: (exportName) => {
        const at = exportName.indexOf('@');
        const v = this.engine.volumesByName.get(exportName.slice(0, at));
        const s = v ? this.byVolume.get(v.row.id)?.get(exportName.slice(at + 1)) : undefined;
        return s ? new SnapshotVolume(this.engine, s) : null;
      },
      names: () => this.list().map((s) => `${s.volume}@${s.name}`),
    };
  }

  get(volume: string, name: string): Snapshot {
    const v = this.engine.volumesByName.get(volume);
    const s = v ? this.byVolume.get(v.row.id)?.get(name) : undefined;
    if (!s) throw new NotFoundError(`no snapshot "${name}" of volume "${volume}" in ${this.engine.dir}`, { volume, name });
    return s;
  }

  // ---- RecordPins ----

  private holders(volumeId: number): Snapshot[] {
    return [...(this.byVolume.get(volumeId)?.values() ?? []), ...(this.retiring.get(volumeId) ?? [])];
  }

  isPinned(volumeId: number, track: number, segment: number, slot: number): boolean {
    for (const s of this.holders(volumeId)) {
      if (s.dir.segmentOf(track) === segment && s.dir.slotOf(track) === slot) return true;
    }
    return false;
  }

  directories(volumeId: number): VolumeDirectory[] {
    return this.holders(volumeId).map((s) => s.dir);
  }

  markMoved(dir: VolumeDirectory): void {
    for (const m of this.byVolume.values()) for (const s of m.values()) if (s.dir === dir) s.dirty = true;
  }

  async persist(): Promise<void> {
    for (const m of this.byVolume.values()) {
      for (const s of m.values()) {
        if (!s.dirty || s.retired) continue;
        s.dirty = false;
        await this.write(s);
      }
    }
  }

  /** File writes one at a time: a rewrite never races the first write of the same file. */
  private write(s: Snapshot): Promise<void> {
    const parts = encodeSnapshot(s.header, s.dir.words, s.dir.tracks); // taken now, synchronously
    this.writing = this.writing.catch(() => undefined).then(() => writeFileAtomic(s.path, parts));
    return this.writing;
  }

  // ---- taking and deleting ----

  /** Copies the directories of the volumes (one instant for all: a consistency group) and
   * writes the snapshot files. The caller has applied every update up to the barrier and
   * none past it. A same-named snapshot is replaced (the default name `latest`). */
  async take(req: SnapshotRequest): Promise<SnapshotResult> {
    const t0 = this.engine.clock.nowMs();
    if (!SNAPSHOT_NAME.test(req.name)) throw new InvalidArgumentError(`snapshot name "${req.name}" is not allowed`);
    const vols = req.volumes.map((name) => {
      const v = this.engine.volumesByName.get(name);
      if (!v) throw new NotFoundError(`the secondary has no volume "${name}"`);
      return v;
    });
    this.refuseUnlessRoom(vols, req);
    const created = this.engine.clock.nowMs();
    const taken: { v: VolumeState; snap: Snapshot; old: Snapshot | undefined }[] = [];
    for (const v of vols) {
      // the copy: no await between the volumes, so all of them show one instant
      const dir = new VolumeDirectory(v.tracks, false);
      dir.words.set(v.directory.words);
      const header: SnapshotHeader = {
        name: req.name, volume: v.row.name, volumeId: v.row.id, capacityBytes: v.row.capacityBytes, trackBytes: this.engine.layout.trackBytes,
        geometry: this.engine.layout.geometry, barrierSeq: req.barrier, createdAtMs: created, allocatedEntries: countAllocated(dir.words, v.tracks),
      };
      const snap: Snapshot = { header, dir, path: snapshotPath(this.engine.dir, v.row.name, req.name), dirty: false };
      const old = this.byVolume.get(v.row.id)?.get(req.name);
      if (old) {
        old.retired = true;
        this.retiring.set(v.row.id, [...(this.retiring.get(v.row.id) ?? []), old]);
      }
      this.register(v, snap);
      taken.push({ v, snap, old });
    }
    for (const t of taken) {
      await this.write(t.snap);
      if (t.old) this.release(t.v, t.old);
    }
    const entries = taken.reduce((n, t) => n + t.snap.header.allocatedEntries, 0);
    const location = taken.length === 1 ? taken[0].snap.path : path.join(this.engine.dir, SNAPSHOT_DIR, `{${req.volumes.join(',')}}`, `${req.name}${SNAPSHOT_SUFFIX}`);
    this.log.info('snapshot taken', { name: req.name, volumes: req.volumes, seq: req.barrier, entries, location });
    return { id: req.id, name: req.name, volumes: req.volumes, location, seq: req.barrier, entries, durationMs: this.engine.clock.nowMs() - t0 };
  }

  /** Before anything is taken: a name in use is replaced only when the request says so (the
   * default name always), and no volume may go past the limit of snapshots. */
  private refuseUnlessRoom(vols: VolumeState[], req: SnapshotRequest): void {
    const replace = req.replace === true || req.name === DEFAULT_SNAPSHOT_NAME;
    const asked = typeof req.snapshotsMax === 'number' && Number.isInteger(req.snapshotsMax) && req.snapshotsMax > 0 ? req.snapshotsMax : this.snapshotsMax;
    const max = Math.min(asked, this.snapshotsMax);
    for (const v of vols) {
      const mine = this.byVolume.get(v.row.id);
      if (mine?.has(req.name)) {
        if (replace) continue;
        throw new AlreadyExistsError(`snapshot ${v.row.name}@${req.name} exists already; pick another name, or replace it with lsa snapshot create --replace ("replace": true)`, { volume: v.row.name, name: req.name });
      }
      if ((mine?.size ?? 0) >= max) {
        throw new LimitReachedError(`volume ${v.row.name} has ${mine!.size} snapshots, the most allowed (--snapshots-max ${max}); remove one with: lsa snapshot delete --dir ${this.engine.dir} --volume ${v.row.name} --name NAME (lsa snapshot list shows them)`, { volume: v.row.name, snapshotsMax: max });
      }
    }
  }

  async delete(volume: string, name: string): Promise<void> {
    const s = this.get(volume, name);
    const v = this.engine.volumesByName.get(volume)!;
    this.byVolume.get(v.row.id)!.delete(name);
    s.retired = true;
    this.retiring.set(v.row.id, [...(this.retiring.get(v.row.id) ?? []), s]);
    this.release(v, s);
    removeDurable(s.path);
    await this.engine.flush();
  }

  /** Drops a snapshot's pins: what only it pointed at becomes garbage. */
  private release(v: VolumeState, s: Snapshot): void {
    const live = v.directory;
    this.retiring.set(v.row.id, (this.retiring.get(v.row.id) ?? []).filter((x) => x !== s));
    const others = this.directories(v.row.id).filter((d) => d !== s.dir);
    for (let t = 0; t < v.tracks; t++) {
      const seg = s.dir.segmentOf(t);
      if (seg === 0) continue;
      const slot = s.dir.slotOf(t);
      if (live.segmentOf(t) === seg && live.slotOf(t) === slot) continue;
      if (others.some((d) => d.segmentOf(t) === seg && d.slotOf(t) === slot)) continue;
      const flags = s.dir.flagsOf(t);
      if (isTrimLike(flags)) this.engine.segments.addTrimRefs(seg, -1);
      else this.engine.segments.addLive(seg, -s.dir.get(t).recordBytes);
    }
    this.engine.markChanged();
  }
}

/** openArray's `pins` option that loads the array's snapshots (SnapshotStore.of gets them). */
export function snapshotPins(log: Logger, opts: { snapshotsMax?: number } = {}): (engine: LsaEngine) => SnapshotStore {
  return (engine) => SnapshotStore.load(engine, log, opts);
}
