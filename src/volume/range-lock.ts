// Orders operations on overlapping track ranges: each waits for every earlier operation whose
// range overlaps its own, so a read-modify-write of part of a track never loses a concurrent
// write to another part of the same track. Non-overlapping operations run in parallel.

interface Held {
  first: number;
  last: number;
  done: Promise<void>;
}

export class RangeLock {
  private held: Held[] = [];

  async acquire(first: number, last: number): Promise<() => void> {
    const before = this.held.filter((h) => h.first <= last && first <= h.last).map((h) => h.done);
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const mine: Held = { first, last, done };
    this.held.push(mine);
    if (before.length > 0) await Promise.all(before);
    return () => {
      const i = this.held.indexOf(mine);
      if (i >= 0) this.held.splice(i, 1);
      release();
    };
  }

  get size(): number {
    return this.held.length;
  }
}
