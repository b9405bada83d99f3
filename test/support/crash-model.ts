// What may be on a volume after a crash: every track holds its content as of the last
// completed flush, or one of the contents it had after a write since then. Never anything else.

import type { Volume } from '../../src/volume/volume';
import { VolumeModel, firstDiff } from './model';

export class CrashModel {
  durable: VolumeModel;
  current: VolumeModel;
  /** Versions of each track written since the last completed flush. */
  private since = new Map<number, Buffer[]>();

  constructor(readonly sizeBytes: number, readonly trackBytes: number) {
    this.durable = new VolumeModel(sizeBytes);
    this.current = new VolumeModel(sizeBytes);
  }

  private trackOf(m: VolumeModel, t: number): Buffer {
    const from = t * this.trackBytes;
    return m.read(from, Math.min(this.trackBytes, this.sizeBytes - from));
  }

  /** Call before issuing a write/trim/zero of [offset, offset + length). */
  change(offset: number, length: number, data: Buffer | null): void {
    if (data) this.current.write(offset, data);
    else this.current.zero(offset, length);
    const first = Math.floor(offset / this.trackBytes);
    const last = Math.floor((offset + length - 1) / this.trackBytes);
    for (let t = first; t <= last; t++) {
      const list = this.since.get(t) ?? [];
      list.push(this.trackOf(this.current, t));
      this.since.set(t, list);
    }
  }

  /** Call after a flush (or FUA write) completed. */
  flushed(): void {
    this.durable = this.current.clone();
    this.since.clear();
  }

  /** Checks the volume after a crash; returns a description of the first violation or null.
   * On success the model takes what was read as the new durable and current state. */
  async verify(v: Volume): Promise<{ problem: string | null; tracksChecked: number }> {
    const got = await v.read(0, this.sizeBytes);
    const tracks = Math.ceil(this.sizeBytes / this.trackBytes);
    for (let t = 0; t < tracks; t++) {
      const from = t * this.trackBytes;
      const have = got.subarray(from, Math.min(from + this.trackBytes, this.sizeBytes));
      const durable = this.trackOf(this.durable, t);
      if (have.equals(durable)) continue;
      const versions = this.since.get(t) ?? [];
      if (versions.some((b) => b.equals(have))) continue;
      const d = firstDiff(have, durable);
      const kind = versions.length === 0 ? 'lost or corrupt (flushed data changed)' : 'neither old nor any new content';
      return { problem: `track ${t}: ${kind}; first difference from the flushed content at byte ${from + d}`, tracksChecked: t };
    }
    const recovered = new VolumeModel(this.sizeBytes);
    got.copy(recovered.bytes);
    this.durable = recovered;
    this.current = recovered.clone();
    this.since.clear();
    return { problem: null, tracksChecked: tracks };
  }
}
