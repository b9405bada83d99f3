// The controller's non-volatile RAM: geometry, volumes, the LSA directory pages and the
// segment table. Two implementations behind one interface: SQLite on disk (the product) and
// an in-memory twin for algorithm benchmarks and simulations. A commit is atomic and, for
// SQLite, durable when it returns (WAL, synchronous=FULL).

import type { SegmentRow } from './segment-table';
import type { PendingRow } from './pending-directory';

export interface VolumeRow {
  id: number;
  name: string;
  capacityBytes: number;
  createdAtMs: number;
  compress: string;
}

export interface PageWrite {
  volumeId: number;
  pageNo: number;
  bytes: Buffer;
}

/** A page of the partial parity of an open segment (NVRAM closes the RAID write hole: the
 * open segment's parity lives here, committed with the directory, until the segment is
 * sealed and its full parity column is on disk). */
export interface ParityPageWrite {
  segment: number;
  pageNo: number;
  bytes: Buffer;
}

export const PARITY_PAGE_BYTES = 4096;

export interface NvramCommit {
  /** Whole directory pages, stamped with `directoryCommit`. */
  pages: PageWrite[];
  /** The directory commit number of this commit (directory-journal.ts): stamped on its pages
   * and its log row. */
  directoryCommit?: number;
  /** Changed directory entries since the last commit, packed (directory-journal.ts): one log
   * row under `directoryCommit`. */
  directoryLog?: Buffer;
  /** Log rows below this commit number are covered by pages written since, and go. */
  directoryLogBefore?: number;
  segments: SegmentRow[];
  meta: Record<string, string>;
  parityPages?: ParityPageWrite[];
  /** Segments whose partial parity is no longer needed (sealed, parity on disk). */
  parityDropped?: number[];
  /** Write-pending directory rows added or moved, and removed (by sequence). */
  pendingPut?: PendingRow[];
  pendingDeleted?: { seq: number; track: number }[];
  volumesAdded?: VolumeRow[];
  volumesRemoved?: number[];
}

export interface NvramStore {
  readonly kind: 'sqlite' | 'memory';
  readonly location: string;
  meta(): Map<string, string>;
  volumes(): VolumeRow[];
  segments(): SegmentRow[];
  /** Directory pages of a volume, with the directory commit number each was written at. */
  forEachPage(volumeId: number, visit: (pageNo: number, bytes: Buffer, commitNo: number) => void): void;
  /** Directory log rows, in commit order. */
  forEachLogRow(visit: (commitNo: number, entries: Buffer) => void): void;
  forEachParityPage(segment: number, visit: (pageNo: number, bytes: Buffer) => void): void;
  paritySegments(): number[];
  pendingRows(): PendingRow[];
  commit(c: NvramCommit): void;
  close(): void;
}

/** The in-memory twin: a commit replaces the committed state wholesale, so a simulated crash
 * that reopens from `committed` sees exactly the committed transactions. */
export class MemoryNvram implements NvramStore {
  readonly kind = 'memory' as const;
  readonly location = ':memory:';
  private metaRows = new Map<string, string>();
  private volumeRows = new Map<number, VolumeRow>();
  private segmentRows = new Map<number, SegmentRow>();
  private pages = new Map<string, { bytes: Buffer; commitNo: number }>();
  private log = new Map<number, Buffer>();
  private parity = new Map<number, Map<number, Buffer>>();
  private pending = new Map<string, PendingRow>();
  commits = 0;

  meta(): Map<string, string> {
    return new Map(this.metaRows);
  }

  volumes(): VolumeRow[] {
    return [...this.volumeRows.values()].map((v) => ({ ...v })).sort((a, b) => a.id - b.id);
  }

  segments(): SegmentRow[] {
    return [...this.segmentRows.values()].map((r) => ({ ...r }));
  }

  forEachPage(volumeId: number, visit: (pageNo: number, bytes: Buffer, commitNo: number) => void): void {
    const prefix = `${volumeId}:`;
    for (const [k, v] of this.pages) if (k.startsWith(prefix)) visit(Number(k.slice(prefix.length)), Buffer.from(v.bytes), v.commitNo);
  }

  forEachLogRow(visit: (commitNo: number, entries: Buffer) => void): void {
    for (const n of [...this.log.keys()].sort((a, b) => a - b)) visit(n, Buffer.from(this.log.get(n)!));
  }

  /** Log rows held (tests watch that the log stays bounded). */
  get logRows(): number {
    return this.log.size;
  }

  forEachParityPage(segment: number, visit: (pageNo: number, bytes: Buffer) => void): void {
    for (const [p, b] of this.parity.get(segment) ?? []) visit(p, Buffer.from(b));
  }

  paritySegments(): number[] {
    return [...this.parity.keys()];
  }

  pendingRows(): PendingRow[] {
    return [...this.pending.values()].map((r) => ({ ...r }));
  }

  commit(c: NvramCommit): void {
    for (const d of c.pendingDeleted ?? []) this.pending.delete(`${d.seq}/${d.track}`);
    for (const r of c.pendingPut ?? []) this.pending.set(`${r.seq}/${r.track}`, { ...r });
    for (const s of c.parityDropped ?? []) this.parity.delete(s);
    for (const p of c.parityPages ?? []) {
      let m = this.parity.get(p.segment);
      if (!m) this.parity.set(p.segment, (m = new Map()));
      m.set(p.pageNo, Buffer.from(p.bytes));
    }
    for (const v of c.volumesAdded ?? []) this.volumeRows.set(v.id, { ...v });
    for (const id of c.volumesRemoved ?? []) {
      this.volumeRows.delete(id);
      for (const k of [...this.pages.keys()]) if (k.startsWith(`${id}:`)) this.pages.delete(k);
    }
    const commitNo = c.directoryCommit ?? 0;
    for (const p of c.pages) this.pages.set(`${p.volumeId}:${p.pageNo}`, { bytes: Buffer.from(p.bytes), commitNo });
    if (c.directoryLogBefore !== undefined) for (const n of [...this.log.keys()]) if (n < c.directoryLogBefore) this.log.delete(n);
    if (c.directoryLog) this.log.set(commitNo, Buffer.from(c.directoryLog));
    for (const r of c.segments) this.segmentRows.set(r.index, { ...r });
    for (const [k, v] of Object.entries(c.meta)) this.metaRows.set(k, v);
    this.commits++;
  }

  close(): void {}
}
