// What may be on a volume after a crash: every track holds its content as of the last
// completed flush, or one of the contents it had after a write since then. Never anything else
// (never garbage, never a mix of two writes inside one track unless some write produced that
// mix, never older data than the flushed content).
//
// Used by the crash tests and by `lsa crashtest`: call `change` before issuing a write, trim or
// zero (the engine may apply it from then on), `flushed` when a flush or FUA write completed,
// and `audit` after the crash and reopen.

import type { Volume } from '../volume/volume';
import { VolumeModel, firstDiff } from './volume-model';

/** Tracks read per chunk when auditing (bounded memory for big volumes). */
const AUDIT_CHUNK_TRACKS = 256;
/** Problems described in words per audit (all are counted). */
const PROBLEMS_LISTED_MAX = 5;

export interface AuditResult {
  tracksChecked: number;
  /** Tracks whose flushed content is gone although nothing was written to them since. */
  lost: number;
  /** Tracks holding neither their flushed content nor any content written since. */
  corrupt: number;
  problems: string[];
}

export class CrashModel {
  durable: VolumeModel;
  current: VolumeModel;
  /** Versions of each track written since the last completed flush. */
  private since = new Map<number, Buffer[]>();
  /** Changes (writes, trims, zeroes) issued since the last completed flush. */
  private changesPending = 0;
  /** Changes that a completed flush covered, since this model was made. */
  changesFlushed = 0;

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
    this.changesPending++;
  }

  /** Call after a flush (or FUA write) completed. */
  flushed(): void {
    this.durable = this.current.clone();
    this.since.clear();
    this.changesFlushed += this.changesPending;
    this.changesPending = 0;
  }

  /** Checks every track after a crash and counts what is wrong. Afterwards the model takes
   * what was read as the new durable and current state (so a campaign can go on). */
  async audit(v: Pick<Volume, 'read'>): Promise<AuditResult> {
    const result: AuditResult = { tracksChecked: 0, lost: 0, corrupt: 0, problems: [] };
    const tracks = Math.ceil(this.sizeBytes / this.trackBytes);
    const recovered = new VolumeModel(this.sizeBytes);
    for (let first = 0; first < tracks; first += AUDIT_CHUNK_TRACKS) {
      const from = first * this.trackBytes;
      const got = await v.read(from, Math.min(AUDIT_CHUNK_TRACKS * this.trackBytes, this.sizeBytes - from));
      got.copy(recovered.bytes, from);
      for (let t = first; t < Math.min(tracks, first + AUDIT_CHUNK_TRACKS); t++) {
        const at = t * this.trackBytes - from;
        const have = got.subarray(at, Math.min(at + this.trackBytes, got.length));
        result.tracksChecked++;
        const durable = this.trackOf(this.durable, t);
        if (have.equals(durable)) continue;
        const versions = this.since.get(t) ?? [];
        if (versions.some((b) => b.equals(have))) continue;
        const kind = versions.length === 0 ? 'lost' : 'corrupt';
        result[kind]++;
        if (result.problems.length < PROBLEMS_LISTED_MAX) {
          const d = firstDiff(have, durable);
          const what = kind === 'lost' ? 'lost (flushed data changed, nothing written since)' : `neither its flushed content nor any of the ${versions.length} written since`;
          result.problems.push(`track ${t}: ${what}; first difference from the flushed content at byte ${t * this.trackBytes + d}`);
        }
      }
    }
    this.durable = recovered;
    this.current = recovered.clone();
    this.since.clear();
    this.changesPending = 0;
    return result;
  }

  /** The first problem in words, or null; as `audit`, but the model is kept on failure. */
  async verify(v: Pick<Volume, 'read'>): Promise<{ problem: string | null; tracksChecked: number }> {
    const keep = { durable: this.durable, current: this.current, since: this.since, pending: this.changesPending };
    const r = await this.audit(v);
    if (r.lost + r.corrupt === 0) return { problem: null, tracksChecked: r.tracksChecked };
    this.durable = keep.durable;
    this.current = keep.current;
    this.since = keep.since;
    this.changesPending = keep.pending;
    return { problem: r.problems[0], tracksChecked: r.tracksChecked };
  }
}
