// The array: N+1 disk files `<dir>/disk-<i>.img`, addressed by (segment, column, offset).
// It knows the geometry, the superblocks and parity, nothing about records or volumes.
//
// Disk health. At open, a disk file that is missing, shorter than the geometry says,
// unreadable, blank or garbage where its superblock should be, or from another array, is
// `failed`: the array runs degraded. Reads of its columns are reconstructed from the other
// columns and parity; writes to it are skipped (the segments written meanwhile still get the
// parity they can have). A disk being rebuilt is `rebuilding`: written like a healthy disk,
// but never read until its rebuild is complete.

import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { CorruptionError, DataLostError, InvalidArgumentError, NotFoundError, assert } from '../errors';
import type { DiskFile, DiskSystem, WriteHint } from '../io/disk-file';
import { Layout, type Geometry } from './geometry';
import { decodeSuperblock, encodeSuperblock, superblockSlotBytes, type Superblock } from './superblock';
import { xorInto } from './parity';

export type DiskHealth = 'ok' | 'missing' | 'truncated' | 'unreadable' | 'blank' | 'foreign' | 'rebuilding';

export function diskPath(dir: string, index: number): string {
  return path.join(dir, `disk-${index}.img`);
}

/** For reconstructing a segment whose parity is not on disk (the open segment after a
 * restart): the parity bytes of the range, and where the segment's logical data ends (data
 * columns beyond it are zeros whatever the disk holds). */
export interface ReconstructSource {
  parity: Buffer;
  fillBytes: number;
}

export class DiskArray {
  private dirty = new Set<number>();
  /** Disks written since the last `writeback` (a subset of what the next `sync` covers). */
  private unflushed = new Set<number>();
  private generation: number;
  readonly health: DiskHealth[];

  private constructor(
    readonly dir: string,
    readonly layout: Layout,
    readonly arrayId: string,
    private files: (DiskFile | null)[],
    private superblock: Superblock,
    health: DiskHealth[],
    private disks: DiskSystem,
  ) {
    this.generation = superblock.generation;
    this.health = health;
  }

  get geometry(): Geometry {
    return this.layout.geometry;
  }

  get label(): unknown {
    return this.superblock.body.label;
  }

  /** Disks whose content cannot be read (failed or still being rebuilt). */
  get unreadableDisks(): number[] {
    return this.health.flatMap((h, i) => (h === 'ok' ? [] : [i]));
  }

  get degraded(): boolean {
    return this.health.some((h) => h !== 'ok');
  }

  private readable(disk: number): boolean {
    return this.health[disk] === 'ok';
  }

  private writable(disk: number): boolean {
    return this.health[disk] === 'ok' || this.health[disk] === 'rebuilding';
  }

  /** `arrayId` is fresh unless given (a simulation replaying from a seed fixes it). */
  static async create(dir: string, geometry: Geometry, disks: DiskSystem, label: unknown, nowMs: number, arrayId: string = randomUUID()): Promise<DiskArray> {
    const layout = new Layout(geometry);
    const files: DiskFile[] = [];
    for (let i = 0; i < layout.disks; i++) files.push(await disks.create(diskPath(dir, i), layout.diskBytes));
    const sb: Superblock = { generation: 0, body: { arrayId, diskIndex: 0, geometry, createdAtMs: nowMs, label } };
    const array = new DiskArray(dir, layout, arrayId, files, sb, files.map(() => 'ok'), disks);
    await array.writeSuperblocks(label);
    return array;
  }

  /** Opens an existing array from its disk files; geometry comes from the superblocks. Failed
   * disks make it degraded; it fails only when no disk has a valid superblock. */
  static async open(dir: string, disks: DiskSystem): Promise<DiskArray> {
    let sb0: Superblock | null = null;
    for (let i = 0; !sb0 && i < 64; i++) {
      if (!disks.exists(diskPath(dir, i))) continue;
      try {
        const file = await disks.open(diskPath(dir, i));
        sb0 = await findAnySuperblock(file);
        await file.close();
      } catch {
        // unreadable: try the next disk
      }
    }
    if (!sb0) {
      if (!disks.exists(diskPath(dir, 0))) {
        throw new NotFoundError(`no array in ${dir}: ${diskPath(dir, 0)} is missing (create one with: lsa init --dir ${dir})`, { dir });
      }
      throw new CorruptionError(`no disk file in ${dir} has a valid superblock: not an lsa array, or damaged beyond repair`, { dir });
    }
    const layout = new Layout(sb0.body.geometry);
    const files: (DiskFile | null)[] = [];
    const health: DiskHealth[] = [];
    let best: Superblock | null = null;
    for (let i = 0; i < layout.disks; i++) {
      const p = diskPath(dir, i);
      if (!disks.exists(p)) {
        files.push(null);
        health.push('missing');
        continue;
      }
      let file: DiskFile;
      try {
        file = await disks.open(p);
      } catch {
        files.push(null);
        health.push('unreadable');
        continue;
      }
      files.push(file);
      if (disks.lengthOf(p) < layout.diskBytes) {
        health.push('truncated');
        continue;
      }
      let sb: Superblock | null;
      try {
        sb = await readBestSuperblock(file, layout);
      } catch {
        health.push('unreadable');
        continue;
      }
      if (!sb) {
        health.push('blank');
        continue;
      }
      if (sb.body.arrayId !== sb0.body.arrayId || sb.body.diskIndex !== i) {
        health.push('foreign');
        continue;
      }
      health.push('ok');
      if (!best || sb.generation > best.generation) best = sb;
    }
    assert(best, 'the disk that gave the geometry is healthy');
    return new DiskArray(dir, layout, best.body.arrayId, files, best, health, disks);
  }

  /** Writes a new superblock generation to the other slot of every writable disk and syncs. */
  async writeSuperblocks(label: unknown): Promise<void> {
    const slotBytes = superblockSlotBytes(this.layout.columnBytes);
    this.generation++;
    const slot = this.generation % 2;
    const body = { ...this.superblock.body, label };
    await Promise.all(this.files.map(async (file, i) => {
      if (!file || !this.writable(i)) return;
      const buf = encodeSuperblock({ generation: this.generation, body: { ...body, diskIndex: i } }, slotBytes);
      await file.write(buf, slot * slotBytes);
      await file.sync();
    }));
    this.superblock = { generation: this.generation, body };
  }

  private checkAddress(segment: number, column: number, offset: number, length: number): void {
    const l = this.layout;
    if (!(segment >= 1 && segment < l.segments && column >= 0 && column < l.dataColumns && offset >= 0 && offset + length <= l.columnBytes)) {
      throw new InvalidArgumentError(`address out of the array: segment ${segment} column ${column} bytes ${offset}+${length}`);
    }
  }

  /** Reads a data column range; a failed disk's range is rebuilt from the others and parity. */
  async readColumn(segment: number, column: number, offset: number, buf: Buffer, source?: ReconstructSource): Promise<void> {
    this.checkAddress(segment, column, offset, buf.length);
    const disk = this.layout.dataDisk(segment, column);
    if (!this.readable(disk)) return this.reconstructColumn(segment, column, offset, buf, source);
    await this.files[disk]!.read(buf, this.layout.segmentOffset(segment) + offset);
  }

  /** Reads a data column range from its own disk only (never reconstructs); false if that
   * disk cannot be read. */
  async readColumnDirect(segment: number, column: number, offset: number, buf: Buffer): Promise<boolean> {
    this.checkAddress(segment, column, offset, buf.length);
    const disk = this.layout.dataDisk(segment, column);
    if (!this.readable(disk)) return false;
    await this.files[disk]!.read(buf, this.layout.segmentOffset(segment) + offset);
    return true;
  }

  async writeColumn(segment: number, column: number, offset: number, buf: Buffer, hint?: WriteHint): Promise<void> {
    this.checkAddress(segment, column, offset, buf.length);
    const disk = this.layout.dataDisk(segment, column);
    if (!this.writable(disk)) return;
    await this.writeDisk(disk, buf, this.layout.segmentOffset(segment) + offset, hint);
  }

  /** Marks the disk dirty when the write has completed: a sync covers the writes completed
   * before it starts, so one still in flight (the engine writes columns while a commit syncs)
   * belongs to the next sync, and marking it earlier would only sync that disk twice. */
  private async writeDisk(disk: number, buf: Buffer, at: number, hint?: WriteHint): Promise<void> {
    await this.files[disk]!.write(buf, at, hint);
    this.dirty.add(disk);
    this.unflushed.add(disk);
  }

  /** Pushes what was written so far towards the media (fdatasync, one disk at a time, so the
   * I/O threads stay free for writes), without settling anything: `sync` still covers every
   * disk written since the last sync. Lets the disks work while the host is still writing
   * instead of all at the next flush. */
  async writeback(): Promise<void> {
    const disks = [...this.unflushed];
    this.unflushed.clear();
    for (const d of disks) await this.files[d]?.sync();
  }

  /** Parity column range; false (buf untouched) when the parity disk cannot be read. */
  async readParity(segment: number, offset: number, buf: Buffer): Promise<boolean> {
    this.checkAddress(segment, 0, offset, buf.length);
    const disk = this.layout.parityDisk(segment);
    if (!this.readable(disk)) return false;
    await this.files[disk]!.read(buf, this.layout.segmentOffset(segment) + offset);
    return true;
  }

  async writeParity(segment: number, offset: number, buf: Buffer, hint?: WriteHint): Promise<void> {
    this.checkAddress(segment, 0, offset, buf.length);
    const disk = this.layout.parityDisk(segment);
    if (!this.writable(disk)) return;
    await this.writeDisk(disk, buf, this.layout.segmentOffset(segment) + offset, hint);
  }

  /** Recomputes a data column range from the other columns and parity. Throws DataLostError
   * when one of those cannot be read either. */
  async reconstructColumn(segment: number, column: number, offset: number, buf: Buffer, source?: ReconstructSource): Promise<void> {
    this.checkAddress(segment, column, offset, buf.length);
    const lost = (what: string): never => {
      throw new DataLostError(`segment ${segment} column ${column} bytes ${offset}..${offset + buf.length - 1} cannot be rebuilt: ${what}`, { segment, column, offset, length: buf.length });
    };
    if (source) source.parity.copy(buf);
    else if (!(await this.readParity(segment, offset, buf))) lost(`the parity disk ${this.layout.parityDisk(segment)} is unreadable too`);
    const cb = this.layout.columnBytes;
    const tmp = Buffer.alloc(buf.length);
    for (let c = 0; c < this.layout.dataColumns; c++) {
      if (c === column) continue;
      // with a fill point, bytes of column c at or past it are zeros in this segment's life
      const logicalEnd = source ? Math.max(0, Math.min(buf.length, source.fillBytes - c * cb - offset)) : buf.length;
      if (logicalEnd <= 0) continue;
      const part = tmp.subarray(0, logicalEnd);
      if (!(await this.readColumnDirect(segment, c, offset, part))) lost(`disk ${this.layout.dataDisk(segment, c)} (column ${c}) is unreadable too`);
      xorInto(buf.subarray(0, logicalEnd), part);
    }
  }

  /** fdatasync every disk written since the last sync. */
  async sync(): Promise<void> {
    const disks = [...this.dirty];
    this.dirty.clear();
    try {
      await Promise.all(disks.map((d) => this.files[d]?.sync()));
    } catch (err) {
      for (const d of disks) this.dirty.add(d);
      throw err;
    }
  }

  /** Replaces a failed disk by a new blank sparse file and starts writing to it (`rebuilding`);
   * reads keep reconstructing it until `finishRebuild`. */
  async beginRebuild(disk: number, freshFile: boolean): Promise<void> {
    assert(disk >= 0 && disk < this.layout.disks, 'disk index');
    if (freshFile || !this.files[disk]) {
      await this.files[disk]?.close().catch(() => undefined);
      const p = diskPath(this.dir, disk);
      this.files[disk] = await this.disks.replace(p, this.layout.diskBytes);
    }
    this.health[disk] = 'rebuilding';
    await this.writeSuperblocks(this.superblock.body.label);
  }

  markRebuilding(disk: number): void {
    if (this.files[disk] && this.health[disk] !== 'missing') this.health[disk] = 'rebuilding';
  }

  finishRebuild(disk: number): void {
    assert(this.health[disk] === 'rebuilding', 'finishing a rebuild that was started');
    this.health[disk] = 'ok';
  }

  async syncDisk(disk: number): Promise<void> {
    this.dirty.delete(disk);
    await this.files[disk]?.sync();
  }

  async close(): Promise<void> {
    await Promise.all(this.files.map((f) => f?.close()));
  }
}

async function readBestSuperblock(file: DiskFile, layout: Layout): Promise<Superblock | null> {
  const slotBytes = superblockSlotBytes(layout.columnBytes);
  const probeBytes = Math.min(slotBytes, 256 * 1024);
  let best: Superblock | null = null;
  for (let slot = 0; slot < 2; slot++) {
    const buf = Buffer.alloc(probeBytes);
    await file.read(buf, slot * slotBytes);
    let sb: Superblock | null = null;
    try {
      sb = decodeSuperblock(buf);
    } catch {
      sb = null; // a torn slot: the other one holds the previous generation
    }
    if (sb && (!best || sb.generation > best.generation)) best = sb;
  }
  return best;
}

/** Before the geometry is known: slot 0 sits at byte 0, slot 1 at columnBytes / 2 for some
 * power-of-two-multiple column size, so probe those places. */
async function findAnySuperblock(file: DiskFile): Promise<Superblock | null> {
  const probe = Buffer.alloc(256 * 1024);
  const offsets = [0];
  for (let at = 2048; at <= 128 * 1024 * 1024; at *= 2) offsets.push(at);
  for (const at of offsets) {
    await file.read(probe, at);
    try {
      const sb = decodeSuperblock(probe);
      if (sb) return sb;
    } catch {
      // not here
    }
  }
  return null;
}
