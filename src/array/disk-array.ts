// The array: N+1 disk files `<dir>/disk-<i>.img`, addressed by (segment, column, offset).
// It knows the geometry and the superblocks, nothing about records or volumes.

import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { CorruptionError, InvalidArgumentError, NotFoundError, assert } from '../errors';
import type { DiskFile, DiskSystem } from '../io/disk-file';
import { Layout, type Geometry } from './geometry';
import { decodeSuperblock, encodeSuperblock, superblockSlotBytes, type Superblock } from './superblock';
import { xorInto } from './parity';

export function diskPath(dir: string, index: number): string {
  return path.join(dir, `disk-${index}.img`);
}

export class DiskArray {
  private dirty = new Set<number>();
  private generation: number;

  private constructor(
    readonly dir: string,
    readonly layout: Layout,
    readonly arrayId: string,
    private files: DiskFile[],
    private superblock: Superblock,
  ) {
    this.generation = superblock.generation;
  }

  get geometry(): Geometry {
    return this.layout.geometry;
  }

  get label(): unknown {
    return this.superblock.body.label;
  }

  static async create(dir: string, geometry: Geometry, disks: DiskSystem, label: unknown, nowMs: number): Promise<DiskArray> {
    const layout = new Layout(geometry);
    const arrayId = randomUUID();
    const files: DiskFile[] = [];
    for (let i = 0; i < layout.disks; i++) files.push(await disks.create(diskPath(dir, i), layout.diskBytes));
    const sb: Superblock = { generation: 0, body: { arrayId, diskIndex: 0, geometry, createdAtMs: nowMs, label } };
    const array = new DiskArray(dir, layout, arrayId, files, sb);
    await array.writeSuperblocks(label);
    return array;
  }

  /** Opens an existing array from its disk files; geometry comes from the superblocks. */
  static async open(dir: string, disks: DiskSystem): Promise<DiskArray> {
    if (!disks.exists(diskPath(dir, 0))) {
      throw new NotFoundError(`no array in ${dir}: ${diskPath(dir, 0)} is missing (create one with: lsa init --dir ${dir})`, { dir });
    }
    let sb0: Superblock | null = null;
    for (let i = 0; !sb0 && disks.exists(diskPath(dir, i)); i++) {
      const file = await disks.open(diskPath(dir, i));
      sb0 = await findAnySuperblock(file);
      await file.close();
    }
    if (!sb0) throw new CorruptionError(`${diskPath(dir, 0)} has no valid superblock: not an lsa disk file, or damaged`, { dir });
    const layout = new Layout(sb0.body.geometry);
    const files: DiskFile[] = [];
    let best: Superblock | null = null;
    for (let i = 0; i < layout.disks; i++) {
      const file = await disks.open(diskPath(dir, i));
      files.push(file);
      const sb = await readBestSuperblock(file, layout);
      if (!sb) throw new CorruptionError(`${file.path} has no valid superblock`, { disk: i });
      if (sb.body.arrayId !== sb0.body.arrayId || sb.body.diskIndex !== i) {
        throw new CorruptionError(`${file.path} belongs to another array or position (array ${sb.body.arrayId}, disk ${sb.body.diskIndex})`, { disk: i });
      }
      if (!best || sb.generation > best.generation) best = sb;
    }
    assert(best, 'at least one superblock');
    return new DiskArray(dir, layout, best.body.arrayId, files, best);
  }

  /** Writes a new superblock generation to the other slot of every disk and syncs. */
  async writeSuperblocks(label: unknown): Promise<void> {
    const slotBytes = superblockSlotBytes(this.layout.columnBytes);
    this.generation++;
    const slot = this.generation % 2;
    const body = { ...this.superblock.body, label };
    await Promise.all(this.files.map(async (file, i) => {
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

  async readColumn(segment: number, column: number, offset: number, buf: Buffer): Promise<void> {
    this.checkAddress(segment, column, offset, buf.length);
    const disk = this.layout.dataDisk(segment, column);
    await this.files[disk].read(buf, this.layout.segmentOffset(segment) + offset);
  }

  async writeColumn(segment: number, column: number, offset: number, buf: Buffer): Promise<void> {
    this.checkAddress(segment, column, offset, buf.length);
    const disk = this.layout.dataDisk(segment, column);
    this.dirty.add(disk);
    await this.files[disk].write(buf, this.layout.segmentOffset(segment) + offset);
  }

  async readParity(segment: number, offset: number, buf: Buffer): Promise<void> {
    this.checkAddress(segment, 0, offset, buf.length);
    await this.files[this.layout.parityDisk(segment)].read(buf, this.layout.segmentOffset(segment) + offset);
  }

  async writeParity(segment: number, offset: number, buf: Buffer): Promise<void> {
    this.checkAddress(segment, 0, offset, buf.length);
    const disk = this.layout.parityDisk(segment);
    this.dirty.add(disk);
    await this.files[disk].write(buf, this.layout.segmentOffset(segment) + offset);
  }

  /** Recomputes a data column range from the other columns and parity. */
  async reconstructColumn(segment: number, column: number, offset: number, buf: Buffer): Promise<void> {
    this.checkAddress(segment, column, offset, buf.length);
    await this.readParity(segment, offset, buf);
    const tmp = Buffer.alloc(buf.length);
    for (let c = 0; c < this.layout.dataColumns; c++) {
      if (c === column) continue;
      await this.readColumn(segment, c, offset, tmp);
      xorInto(buf, tmp);
    }
  }

  /** fdatasync every disk written since the last sync. */
  async sync(): Promise<void> {
    const disks = [...this.dirty];
    this.dirty.clear();
    try {
      await Promise.all(disks.map((d) => this.files[d].sync()));
    } catch (err) {
      for (const d of disks) this.dirty.add(d);
      throw err;
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.files.map((f) => f.close()));
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
