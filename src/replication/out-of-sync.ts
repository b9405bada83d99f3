// The out-of-sync tracks of one volume on a live link: tracks whose update was not shipped
// because the async lag bound was hit. Everything else written on this connection went out in
// order, so catching up means shipping the current content of just these tracks (rather than
// every track newer than the secondary's applied watermark). One bit per track; a link loss
// forgets it all (the next connection resyncs from the watermark, which covers these too).

export class OutOfSyncTracks {
  private readonly words: Uint32Array;
  private marked = 0;

  constructor(readonly tracks: number) {
    this.words = new Uint32Array(Math.ceil(tracks / 32));
  }

  get size(): number {
    return this.marked;
  }

  mark(first: number, count: number): void {
    for (let t = first; t < Math.min(this.tracks, first + count); t++) {
      const bit = 1 << (t & 31);
      const w = t >>> 5;
      if ((this.words[w] & bit) === 0) {
        this.words[w] |= bit;
        this.marked++;
      }
    }
  }

  clear(first: number, count: number): void {
    if (this.marked === 0) return;
    for (let t = first; t < Math.min(this.tracks, first + count); t++) {
      const bit = 1 << (t & 31);
      const w = t >>> 5;
      if ((this.words[w] & bit) !== 0) {
        this.words[w] &= ~bit;
        this.marked--;
      }
    }
  }

  has(track: number): boolean {
    return (this.words[track >>> 5] & (1 << (track & 31))) !== 0;
  }

  /** The first marked track at or after `from`, or -1. */
  next(from: number): number {
    if (this.marked === 0) return -1;
    for (let w = from >>> 5; w < this.words.length; w++) {
      let bits = this.words[w];
      if (w === from >>> 5) bits &= ~0 << (from & 31); // drop the tracks before `from`
      if (bits === 0) continue;
      const t = (w << 5) + (31 - Math.clz32(bits & -bits));
      return t < this.tracks ? t : -1;
    }
    return -1;
  }

  reset(): void {
    this.words.fill(0);
    this.marked = 0;
  }
}
