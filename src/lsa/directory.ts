// The LSA directory of one volume: for every track, where its newest record lives. It is held
// in memory as one typed array (32 bytes per track) and persisted in NVRAM (SQLite) as pages
// of 128 entries and a log of changed entries (directory-journal.ts decides which a group
// commit writes). Entry layout (the same in memory, in the `directory_pages.entries` blobs and
// in the `directory_log` rows, little-endian):
//
//   offset size  field
//   0      4     segment (0: the track was never written and reads as zeros)
//   4      4     slot: byte offset of the record in the segment's data, column * columnBytes + offset
//   8      4     record length in bytes (header + payload + padding)
//   12     4     CRC-32 of the stored payload
//   16     2     record flags (TRIM, ZERO, compression; see record-format.ts)
//   18     2     reserved, zero
//   20     4     stored payload length
//   24     8     write sequence of the record
//
// A TRIM or ZERO entry points at the trim record that covers the track, so that record stays
// live (and is moved by the collector) as long as some track still depends on it.

import { assert } from '../errors';

export const ENTRY_BYTES = 32;
export const ENTRY_WORDS = ENTRY_BYTES / 4;
export const PAGE_ENTRIES = 128;
export const PAGE_BYTES = ENTRY_BYTES * PAGE_ENTRIES;

export interface Entry {
  segment: number;
  slot: number;
  recordBytes: number;
  payloadCrc: number;
  flags: number;
  payloadBytes: number;
  seq: number;
}

export const EMPTY_ENTRY: Entry = Object.freeze({ segment: 0, slot: 0, recordBytes: 0, payloadCrc: 0, flags: 0, payloadBytes: 0, seq: 0 });

export class VolumeDirectory {
  readonly words: Uint32Array;
  readonly pages: number;
  /** Tracks whose entry changed since the last takeChanges. */
  private changed = new Set<number>();

  /** `journaled`: the engine's directories remember what changed for the next commit; a
   * snapshot's (kept in its own file) does not. */
  constructor(readonly tracks: number, private readonly journaled = true) {
    this.pages = Math.ceil(tracks / PAGE_ENTRIES);
    this.words = new Uint32Array(this.pages * PAGE_ENTRIES * ENTRY_WORDS);
  }

  segmentOf(track: number): number {
    return this.words[track * ENTRY_WORDS];
  }

  slotOf(track: number): number {
    return this.words[track * ENTRY_WORDS + 1];
  }

  flagsOf(track: number): number {
    return this.words[track * ENTRY_WORDS + 4] & 0xffff;
  }

  seqOf(track: number): number {
    const w = track * ENTRY_WORDS;
    return this.words[w + 6] + this.words[w + 7] * 0x100000000;
  }

  get(track: number): Entry {
    // the message is built only on failure: this runs for every track written
    if (!(track >= 0 && track < this.tracks)) assert(false, `track ${track} in directory of ${this.tracks}`);
    const w = track * ENTRY_WORDS;
    const t = this.words;
    return {
      segment: t[w],
      slot: t[w + 1],
      recordBytes: t[w + 2],
      payloadCrc: t[w + 3],
      flags: t[w + 4] & 0xffff,
      payloadBytes: t[w + 5],
      seq: t[w + 6] + t[w + 7] * 0x100000000,
    };
  }

  set(track: number, e: Entry): void {
    if (!(track >= 0 && track < this.tracks)) assert(false, `track ${track} in directory of ${this.tracks}`);
    const w = track * ENTRY_WORDS;
    const t = this.words;
    t[w] = e.segment;
    t[w + 1] = e.slot;
    t[w + 2] = e.recordBytes;
    t[w + 3] = e.payloadCrc;
    t[w + 4] = e.flags;
    t[w + 5] = e.payloadBytes;
    t[w + 6] = e.seq % 0x100000000;
    t[w + 7] = Math.floor(e.seq / 0x100000000);
    if (this.journaled) this.changed.add(track);
  }

  /** Points a track at a new place for the same record (the collector moved it). */
  relocate(track: number, segment: number, slot: number): void {
    const w = track * ENTRY_WORDS;
    this.words[w] = segment;
    this.words[w + 1] = slot;
    if (this.journaled) this.changed.add(track);
  }

  /** The tracks changed since the last call (in no particular order), for a commit. */
  takeChanges(): Set<number> {
    const out = this.changed;
    this.changed = new Set();
    return out;
  }

  /** Copies of the pages changed since the last takeChanges, for a commit of whole pages. */
  takeDirtyPages(): { pageNo: number; bytes: Buffer }[] {
    const pageNos = new Set<number>();
    for (const t of this.takeChanges()) pageNos.add(Math.floor(t / PAGE_ENTRIES));
    return [...pageNos].map((pageNo) => ({ pageNo, bytes: this.pageBytes(pageNo) }));
  }

  /** Copies one entry's 32 bytes into `out` at `at` (the NVRAM log stores them). */
  copyEntryTo(track: number, out: Buffer, at: number): void {
    Buffer.from(this.words.buffer, this.words.byteOffset + track * ENTRY_BYTES, ENTRY_BYTES).copy(out, at);
  }

  /** Sets one entry from its 32 bytes (replaying the NVRAM log); false if malformed. */
  loadEntry(track: number, bytes: Buffer): boolean {
    if (!(track >= 0 && track < this.tracks) || bytes.length !== ENTRY_BYTES) return false;
    bytes.copy(Buffer.from(this.words.buffer, this.words.byteOffset + track * ENTRY_BYTES, ENTRY_BYTES));
    return true;
  }

  pageBytes(pageNo: number): Buffer {
    const start = pageNo * PAGE_ENTRIES * ENTRY_WORDS;
    const view = Buffer.from(this.words.buffer, this.words.byteOffset + start * 4, PAGE_BYTES);
    return Buffer.from(view);
  }

  loadPage(pageNo: number, bytes: Buffer): boolean {
    if (pageNo < 0 || pageNo >= this.pages || bytes.length !== PAGE_BYTES) return false;
    const target = Buffer.from(this.words.buffer, this.words.byteOffset + pageNo * PAGE_BYTES, PAGE_BYTES);
    bytes.copy(target);
    return true;
  }

  /** Tracks that hold a record (data, or a trim/zero record). */
  countAllocated(isData: (flags: number) => boolean): number {
    let n = 0;
    for (let t = 0; t < this.tracks; t++) {
      if (this.words[t * ENTRY_WORDS] !== 0 && isData(this.words[t * ENTRY_WORDS + 4] & 0xffff)) n++;
    }
    return n;
  }
}
