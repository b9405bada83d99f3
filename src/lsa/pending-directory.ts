// The write-pending directory of a secondary subsystem (the seed's data mover): updates that
// arrived from the primary are stored as records in this array's LSA right away, and listed
// here (data id = volume and tracks, LSA address, the primary's sequence and timestamp) until
// they can be applied to the volume directory in sequence order. Pending records count as
// live for the collector (it moves them and updates their address here). The list is in
// NVRAM, committed with the data it points at. This file is the list itself; storing, applying
// and dropping pending updates is in pending.ts.

import { assert } from '../errors';

export interface PendingRow {
  seq: number;
  volumeId: number;
  track: number;
  trackCount: number;
  flags: number;
  segment: number;
  slot: number;
  recordBytes: number;
  payloadBytes: number;
  payloadCrc: number;
  timestampMs: number;
}

export interface PendingChanges {
  pendingPut: PendingRow[];
  pendingDeleted: { seq: number; track: number }[];
}

/** A pending update is identified by its sequence and first track: a resync may send one trim
 * record's sequence for several separate runs of tracks. */
export function pendingKey(seq: number, track: number): string {
  return `${seq}/${track}`;
}

export class PendingDirectory {
  private byKey = new Map<string, PendingRow>();
  private bySlot = new Map<string, string>();
  private put = new Set<string>();
  private deleted = new Map<string, { seq: number; track: number }>();
  /** Keys whose row is in NVRAM (loaded, or put by a commit). A row applied before any commit
   * carried it never touches NVRAM: neither its put nor its delete is written. */
  private persisted = new Set<string>();

  get size(): number {
    return this.byKey.size;
  }

  /** A row read back from NVRAM. */
  load(row: PendingRow): void {
    this.index(row);
    this.persisted.add(pendingKey(row.seq, row.track));
  }

  add(row: PendingRow): void {
    this.index(row);
    const k = pendingKey(row.seq, row.track);
    this.put.add(k);
    this.deleted.delete(k);
  }

  private index(row: PendingRow): void {
    const k = pendingKey(row.seq, row.track);
    this.byKey.set(k, row);
    this.bySlot.set(key(row.segment, row.slot), k);
  }

  has(seq: number, track: number): boolean {
    return this.byKey.has(pendingKey(seq, track));
  }

  at(segment: number, slot: number): PendingRow | undefined {
    const k = this.bySlot.get(key(segment, slot));
    return k === undefined ? undefined : this.byKey.get(k);
  }

  remove(row: PendingRow): void {
    const k = pendingKey(row.seq, row.track);
    if (!this.byKey.delete(k)) return;
    this.bySlot.delete(key(row.segment, row.slot));
    this.put.delete(k);
    if (this.persisted.has(k)) this.deleted.set(k, { seq: row.seq, track: row.track });
  }

  move(row: PendingRow, segment: number, slot: number): void {
    const k = pendingKey(row.seq, row.track);
    assert(this.byKey.get(k) === row, 'moving a pending record that exists');
    this.bySlot.delete(key(row.segment, row.slot));
    row.segment = segment;
    row.slot = slot;
    this.bySlot.set(key(segment, slot), k);
    this.put.add(k);
  }

  /** Rows in sequence order (then track). */
  rows(): PendingRow[] {
    return [...this.byKey.values()].sort((a, b) => a.seq - b.seq || a.track - b.track);
  }

  inSegment(segment: number): PendingRow[] {
    return [...this.byKey.values()].filter((r) => r.segment === segment);
  }

  takeChanges(): PendingChanges {
    const out = {
      pendingPut: [...this.put].map((k) => ({ ...this.byKey.get(k)! })),
      pendingDeleted: [...this.deleted.values()],
    };
    for (const k of this.put) this.persisted.add(k);
    for (const k of this.deleted.keys()) this.persisted.delete(k);
    this.put.clear();
    this.deleted.clear();
    return out;
  }
}

function key(segment: number, slot: number): string {
  return `${segment}:${slot}`;
}
