// The tracks a resync (or a catch-up after the lag bound) ships, as they are now: a run of
// tracks that point at one trim record goes at once as one TRIM/ZERO; data tracks are read in
// parallel batches (one read at a time left the disks and the I/O threads mostly idle: a
// catch-up of 64 MiB took ~2 s) and shipped in track order with their directory sequence.

import { isTrimLike, RECORD_FLAG_ZERO } from '../lsa/record-format';
import type { FramedSocket } from './framed-socket';
import type { Pair, PrimaryReplicator } from './primary';

/** Data tracks read at once. */
export const SCAN_READ_BATCH = 64;

export class ScanBatch {
  private tracks: number[] = [];
  private readonly bufs: Buffer[];
  private frames = 0;

  constructor(private readonly rep: PrimaryReplicator, private readonly link: FramedSocket, private readonly p: Pair) {
    const tb = rep.engine.layout.trackBytes;
    this.bufs = Array.from({ length: SCAN_READ_BATCH }, () => Buffer.alloc(tb));
  }

  /** Takes track t (written, so allocated). Returns how many tracks from t it covered: a trim
   * run is shipped at once; a data track joins the batch, read and shipped when it is full. */
  async add(t: number): Promise<number> {
    const dir = this.p.v.directory;
    const flags = dir.flagsOf(t);
    if (isTrimLike(flags)) {
      const seg = dir.segmentOf(t);
      const slot = dir.slotOf(t);
      const seq = dir.seqOf(t);
      let run = 1;
      while (t + run < this.p.v.tracks && dir.segmentOf(t + run) === seg && dir.slotOf(t + run) === slot && dir.seqOf(t + run) === seq) run++;
      this.rep.shipScanned(this.link, this.p, { track: t, count: run, kind: flags & RECORD_FLAG_ZERO ? 'zero' : 'trim', data: null, seq, timestampMs: this.rep.timers.nowMs() });
      await this.counted();
      return run;
    }
    this.tracks.push(t);
    if (this.tracks.length >= SCAN_READ_BATCH) await this.finish();
    return 1;
  }

  /** Reads the batch and ships each track that was not rewritten meanwhile (a rewrite went out
   * on the live path, or was marked for the catch-up if the lag bound kept it back). */
  async finish(): Promise<void> {
    if (this.tracks.length === 0) return;
    const tracks = this.tracks;
    this.tracks = [];
    const dir = this.p.v.directory;
    const seqs = tracks.map((t) => dir.seqOf(t));
    await Promise.all(tracks.map((t, i) => this.rep.engine.readTrack(this.p.v.row.id, t, this.bufs[i], 0)));
    for (let i = 0; i < tracks.length; i++) {
      if (this.link.isClosed) return;
      if (dir.seqOf(tracks[i]) !== seqs[i] || isTrimLike(dir.flagsOf(tracks[i]))) continue;
      this.rep.shipScanned(this.link, this.p, { track: tracks[i], count: 1, kind: 'write', data: this.bufs[i], seq: seqs[i], timestampMs: this.rep.timers.nowMs() });
      await this.counted();
    }
  }

  private async counted(): Promise<void> {
    if (++this.frames % this.rep.scanBurst === 0) await this.rep.pace(this.link);
  }
}
