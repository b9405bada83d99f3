// How the directories reach NVRAM: whole pages, and a log of changed entries.
//
// A group commit after 32 random 4 KiB writes has changed 32 entries on 32 different pages. As
// whole pages that is 128 KiB of blobs, at 32 random places in the pages table, per commit: the
// larger part of a flush's cost (about 1 of 2 ms here). So a commit writes the entries it
// changed as one appended log row (40 bytes each), a page whole only when many of its entries
// changed (a sequential write), and a few of the oldest pages that the log still covers
// ("folding"), so the log stays short. Every page carries the commit number it was written at.
// On open the pages are loaded, then the log rows in commit order, each entry applied unless its
// page was written at that commit or later. Log rows older than the oldest one a page still
// needs go in the commit that makes them unneeded.

import { CorruptionError } from '../errors';
import { ENTRY_BYTES, PAGE_ENTRIES, type VolumeDirectory } from './directory';
import type { NvramStore, PageWrite } from './nvram';

/** A log entry: volume id (u32 LE), track (u32 LE), the 32-byte directory entry. */
export const LOG_ENTRY_BYTES = 8 + ENTRY_BYTES;
/** A page with this many entries changed in one commit is written whole instead (it costs
 * about what 16 log entries do, and leaves nothing to fold). */
export const WHOLE_PAGE_CHANGES = 16;
/** Pages folded per commit: the pages the log covers / FOLD_SPAN (at least one), so the log
 * reaches back about FOLD_SPAN commits at most (a few MiB, replayed in milliseconds on open). */
export const FOLD_SPAN = 4096;

/** The directories a journal writes for: by volume id. */
export interface JournalVolume {
  row: { id: number; name: string };
  tracks: number;
  directory: VolumeDirectory;
}

/** What one commit writes of the directories (fields of NvramCommit). */
export interface DirectoryWrite {
  directoryCommit: number;
  pages: PageWrite[];
  directoryLog?: Buffer;
  directoryLogBefore?: number;
}

interface Unfolded {
  volumeId: number;
  pageNo: number;
  /** The first log row with an entry of this page that no page write covers yet. */
  since: number;
}

export class DirectoryJournal {
  /** The last directory commit number given out (or loaded). */
  private commitNo = 0;
  /** Pages with log entries not covered by a later page write, oldest first: a Map keeps
   * insertion order, and a page written whole leaves it and comes back at the end. */
  private unfolded = new Map<string, Unfolded>();
  private logBefore = 0;

  /** Pages whose newest entries are partly in the log (tests watch that it stays bounded). */
  get pagesInLog(): number {
    return this.unfolded.size;
  }

  /** Takes the directories' changes since the last call and says what to commit for them. */
  prepare(volumes: Map<number, JournalVolume>): DirectoryWrite {
    const commitNo = ++this.commitNo;
    const pages: PageWrite[] = [];
    const logged: { v: JournalVolume; track: number }[] = [];
    for (const v of volumes.values()) {
      const changed = v.directory.takeChanges();
      if (changed.size === 0) continue;
      const byPage = new Map<number, number[]>();
      for (const t of changed) {
        const pageNo = Math.floor(t / PAGE_ENTRIES);
        const list = byPage.get(pageNo);
        if (list) list.push(t);
        else byPage.set(pageNo, [t]);
      }
      for (const [pageNo, tracks] of byPage) {
        const key = pageKey(v.row.id, pageNo);
        if (tracks.length >= WHOLE_PAGE_CHANGES) {
          pages.push({ volumeId: v.row.id, pageNo, bytes: v.directory.pageBytes(pageNo) });
          this.unfolded.delete(key);
          continue;
        }
        for (const track of tracks) logged.push({ v, track });
        if (!this.unfolded.has(key)) this.unfolded.set(key, { volumeId: v.row.id, pageNo, since: commitNo });
      }
    }
    let fold = Math.ceil(this.unfolded.size / FOLD_SPAN);
    for (const [key, u] of this.unfolded) {
      if (fold-- <= 0) break;
      this.unfolded.delete(key);
      const v = volumes.get(u.volumeId);
      if (v) pages.push({ volumeId: u.volumeId, pageNo: u.pageNo, bytes: v.directory.pageBytes(u.pageNo) });
    }
    const out: DirectoryWrite = { directoryCommit: commitNo, pages };
    if (logged.length > 0) out.directoryLog = packLog(logged);
    const before = this.unfolded.size > 0 ? this.unfolded.values().next().value!.since : commitNo + 1;
    if (before !== this.logBefore) {
      out.directoryLogBefore = before;
      this.logBefore = before;
    }
    return out;
  }

  /** Loads the directories from NVRAM (`where`, of the array in `dir`): every page, then the
   * log rows over them. A malformed page or log row is a CorruptionError that names the
   * recovery command; nothing is written. */
  load(nvram: Pick<NvramStore, 'forEachPage' | 'forEachLogRow'>, volumes: Map<number, JournalVolume>, where: string, dir: string): void {
    const damaged = (what: string): CorruptionError =>
      new CorruptionError(`${where}: ${what}; nothing was changed. Rebuild the directory from the disk files with: lsa recover --dir ${dir} --rebuild-directory`, { path: where });
    const pageCommit = new Map<string, number>();
    for (const v of volumes.values()) {
      nvram.forEachPage(v.row.id, (pageNo, bytes, commitNo) => {
        if (!v.directory.loadPage(pageNo, bytes)) throw damaged(`directory page ${pageNo} of volume ${v.row.name} is malformed`);
        pageCommit.set(pageKey(v.row.id, pageNo), commitNo);
        this.commitNo = Math.max(this.commitNo, commitNo);
      });
    }
    nvram.forEachLogRow((commitNo, entries) => {
      if (entries.length % LOG_ENTRY_BYTES !== 0) throw damaged(`directory log row ${commitNo} is malformed (${entries.length} bytes, not a multiple of ${LOG_ENTRY_BYTES})`);
      this.commitNo = Math.max(this.commitNo, commitNo);
      for (let at = 0; at < entries.length; at += LOG_ENTRY_BYTES) {
        const volumeId = entries.readUInt32LE(at);
        const track = entries.readUInt32LE(at + 4);
        const v = volumes.get(volumeId);
        if (!v || track >= v.tracks) throw damaged(`directory log row ${commitNo} names track ${track} of volume id ${volumeId}, which does not exist`);
        const pageNo = Math.floor(track / PAGE_ENTRIES);
        const key = pageKey(volumeId, pageNo);
        if ((pageCommit.get(key) ?? 0) >= commitNo) continue; // the page was written since
        v.directory.loadEntry(track, entries.subarray(at + 8, at + LOG_ENTRY_BYTES));
        if (!this.unfolded.has(key)) this.unfolded.set(key, { volumeId, pageNo, since: commitNo });
      }
    });
  }
}

function pageKey(volumeId: number, pageNo: number): string {
  return `${volumeId}:${pageNo}`;
}

function packLog(logged: { v: JournalVolume; track: number }[]): Buffer {
  const out = Buffer.allocUnsafe(logged.length * LOG_ENTRY_BYTES);
  let at = 0;
  for (const { v, track } of logged) {
    out.writeUInt32LE(v.row.id, at);
    out.writeUInt32LE(track, at + 4);
    v.directory.copyEntryTo(track, out, at + 8);
    at += LOG_ENTRY_BYTES;
  }
  return out;
}
