// A volume as a block device: byte offsets and lengths of any alignment. Whole tracks go
// straight to the engine; the partial tracks at either end are read, patched and written back
// whole (read-modify-write), under a range lock so concurrent partial writes to one track
// cannot lose each other. Unwritten and trimmed ranges read as zeros.

import { InvalidArgumentError, NotFoundError } from '../errors';
import type { HostIo } from '../lsa/engine-ports';
import type { VolumeState } from '../lsa/volume-state';
import { isTrimLike, RECORD_FLAG_ZERO } from '../lsa/record-format';
import { readRange } from './read-range';
import { RangeLock } from './range-lock';

export interface WriteOptions {
  fua?: boolean;
}

export interface ZeroOptions extends WriteOptions {
  /** Keep the range allocated (NBD's NO_HOLE): reads as zeros but is not reported as a hole. */
  noHole?: boolean;
}

export interface Extent {
  offset: number;
  length: number;
  /** No data stored (never written or trimmed). */
  hole: boolean;
  /** Reads as zeros. */
  zero: boolean;
}

/** What a front end serves: a volume, or a read-only view such as a snapshot. */
export interface BlockDevice {
  readonly name: string;
  readonly sizeBytes: number;
  readonly trackBytes: number;
  read(offset: number, length: number): Promise<Buffer>;
  write(offset: number, data: Buffer, opts?: WriteOptions): Promise<void>;
  flush(): Promise<void>;
  trim(offset: number, length: number, opts?: WriteOptions): Promise<void>;
  writeZeroes(offset: number, length: number, opts?: ZeroOptions): Promise<void>;
  blockStatus(offset: number, length: number): Extent[];
}

export class Volume implements BlockDevice {
  private lock = new RangeLock();

  constructor(readonly engine: HostIo, readonly state: VolumeState) {}

  get name(): string {
    return this.state.row.name;
  }

  get id(): number {
    return this.state.row.id;
  }

  get sizeBytes(): number {
    return this.state.row.capacityBytes;
  }

  get trackBytes(): number {
    return this.engine.layout.trackBytes;
  }

  private checkRange(offset: number, length: number, op: string): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new InvalidArgumentError(`${op}: offset and length must be non-negative integers`, { offset, length });
    }
    if (offset + length > this.sizeBytes) {
      throw new InvalidArgumentError(
        `${op}: bytes ${offset}..${offset + length - 1} are past the end of volume ${this.name} (${this.sizeBytes} bytes)`,
        { offset, length, sizeBytes: this.sizeBytes, volume: this.name },
      );
    }
  }

  async read(offset: number, length: number): Promise<Buffer> {
    this.checkRange(offset, length, 'read');
    const out = Buffer.alloc(length);
    if (length === 0) return out;
    await readRange(this.engine, this.id, offset, out);
    return out;
  }

  async write(offset: number, data: Buffer, opts: WriteOptions = {}): Promise<void> {
    this.checkRange(offset, data.length, 'write');
    if (data.length > 0) await this.patch(offset, data.length, data);
    if (opts.fua) await this.engine.flush();
  }

  async flush(): Promise<void> {
    await this.engine.flush();
  }

  /** Discards a range: whole tracks become holes; partial tracks get zeros written. */
  async trim(offset: number, length: number, opts: WriteOptions = {}): Promise<void> {
    this.checkRange(offset, length, 'trim');
    if (length > 0) await this.patch(offset, length, null, false);
    if (opts.fua) await this.engine.flush();
  }

  async writeZeroes(offset: number, length: number, opts: ZeroOptions = {}): Promise<void> {
    this.checkRange(offset, length, 'write-zeroes');
    if (length > 0) await this.patch(offset, length, null, opts.noHole ?? false);
    if (opts.fua) await this.engine.flush();
  }

  /** Writes `data` (or zeros when null) over [offset, offset + length). */
  private async patch(offset: number, length: number, data: Buffer | null, noHole = false): Promise<void> {
    const tb = this.trackBytes;
    const first = Math.floor(offset / tb);
    const last = Math.floor((offset + length - 1) / tb);
    const release = await this.lock.acquire(first, last);
    try {
      const end = offset + length;
      const whole = (t: number): boolean => offset <= t * tb && (t + 1) * tb <= end;
      const fullFirst = whole(first) ? first : first + 1;
      const fullLast = whole(last) ? last : last - 1;
      if (!whole(first)) await this.patchTrack(first, offset, Math.min(end, (first + 1) * tb), data, offset);
      if (fullLast >= fullFirst) {
        const count = fullLast - fullFirst + 1;
        if (data) {
          const from = fullFirst * tb - offset;
          await this.engine.writeTracks(this.id, fullFirst, data.subarray(from, from + count * tb));
        } else {
          await this.engine.trimTracks(this.id, fullFirst, count, noHole);
        }
      }
      if (last !== first && !whole(last)) await this.patchTrack(last, last * tb, end, data, offset);
    } finally {
      release();
    }
  }

  /** Read-modify-write of bytes [from, to) of one track; `data` starts at byte `dataOffset`. */
  private async patchTrack(track: number, from: number, to: number, data: Buffer | null, dataOffset: number): Promise<void> {
    const tb = this.trackBytes;
    const start = track * tb;
    const buf = Buffer.alloc(tb);
    await this.engine.readTrack(this.id, track, buf, 0);
    if (data) data.copy(buf, from - start, from - dataOffset, to - dataOffset);
    else buf.fill(0, from - start, to - start);
    await this.engine.writeTracks(this.id, track, buf);
  }

  /** Allocation map of [offset, offset + length), merged into runs of equal kind. */
  blockStatus(offset: number, length: number): Extent[] {
    this.checkRange(offset, length, 'block-status');
    const tb = this.trackBytes;
    const dir = this.state.directory;
    const out: Extent[] = [];
    let pos = offset;
    const end = offset + length;
    while (pos < end) {
      const t = Math.floor(pos / tb);
      const seg = dir.segmentOf(t);
      const flags = dir.flagsOf(t);
      const hole = seg === 0 || (isTrimLike(flags) && (flags & RECORD_FLAG_ZERO) === 0);
      const zero = seg === 0 || isTrimLike(flags);
      const next = Math.min(end, (t + 1) * tb);
      const lastExt = out[out.length - 1];
      if (lastExt && lastExt.hole === hole && lastExt.zero === zero) lastExt.length += next - pos;
      else out.push({ offset: pos, length: next - pos, hole, zero });
      pos = next;
    }
    return out;
  }
}


/** One Volume per volume and engine: its range lock must see every write to the volume. */
const handles = new WeakMap<VolumeState, Volume>();

export function volumeOf(engine: HostIo, state: VolumeState): Volume {
  let v = handles.get(state);
  if (!v) {
    v = new Volume(engine, state);
    handles.set(state, v);
  }
  return v;
}

/** The named volume, or a NotFoundError that lists the ones there are. */
export function volumeByName(engine: HostIo, name: string): Volume {
  const state = engine.volumesByName.get(name);
  if (!state) {
    const names = [...engine.volumesByName.keys()];
    throw new NotFoundError(`no volume "${name}" in ${engine.dir}; volumes: ${names.length ? names.join(', ') : '(none)'}`, { volume: name });
  }
  return volumeOf(engine, state);
}
