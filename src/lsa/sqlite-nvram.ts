// NVRAM in SQLite: `<dir>/nvram.sqlite`, WAL journal, synchronous=FULL, so a commit that
// returned survives a power loss. better-sqlite3 is synchronous: a commit never interleaves
// with other JavaScript, and no `await` ever sits inside a transaction.

import Database from 'better-sqlite3';
import { CorruptionError, IoError } from '../errors';
import { createPrivateFile } from '../io/files';
import type { NvramCommit, NvramStore, VolumeRow } from './nvram';
import type { SegmentRow } from './segment-table';
import type { PendingRow } from './pending-directory';
import { forEachDirectoryLogRow, forEachDirectoryPage, forEachOpenParityPage, hasColumn, readMeta, readPendingRows, readSegments, readVolumes } from './nvram-queries';

export const NVRAM_FILE = 'nvram.sqlite';
/** 2: directory_log, and directory_pages.commit_no (a schema 1 file gains both on open). */
export const NVRAM_SCHEMA_VERSION = 2;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS volumes (
  id             INTEGER PRIMARY KEY,
  name           TEXT NOT NULL UNIQUE,
  capacity_bytes INTEGER NOT NULL,
  created_at_ms  INTEGER NOT NULL,
  compress       TEXT NOT NULL DEFAULT 'none'
);
CREATE TABLE IF NOT EXISTS directory_pages (
  volume_id INTEGER NOT NULL,
  page_no   INTEGER NOT NULL,
  entries   BLOB NOT NULL,
  commit_no INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (volume_id, page_no)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS directory_log (
  commit_no INTEGER PRIMARY KEY,
  entries   BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS open_parity (
  segment INTEGER NOT NULL,
  page_no INTEGER NOT NULL,
  bytes   BLOB NOT NULL,
  PRIMARY KEY (segment, page_no)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS write_pending (
  seq           INTEGER NOT NULL,
  volume_id     INTEGER NOT NULL,
  track         INTEGER NOT NULL,
  track_count   INTEGER NOT NULL,
  flags         INTEGER NOT NULL,
  segment       INTEGER NOT NULL,
  slot          INTEGER NOT NULL,
  record_bytes  INTEGER NOT NULL,
  payload_bytes INTEGER NOT NULL,
  payload_crc   INTEGER NOT NULL,
  timestamp_ms  INTEGER NOT NULL,
  PRIMARY KEY (seq, track)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS segments (
  idx          INTEGER PRIMARY KEY,
  state        TEXT NOT NULL,
  live_bytes   INTEGER NOT NULL,
  trim_refs    INTEGER NOT NULL,
  fill_bytes   INTEGER NOT NULL,
  seq_last     INTEGER NOT NULL,
  closed_at_ms INTEGER NOT NULL,
  stream       INTEGER NOT NULL DEFAULT 0
);
`;


export class SqliteNvram implements NvramStore {
  readonly kind = 'sqlite' as const;
  private db: Database.Database;
  private putPage: Database.Statement;
  private putLog: Database.Statement;
  private delLogBefore: Database.Statement;
  private putSegment: Database.Statement;
  private putMeta: Database.Statement;
  private putVolume: Database.Statement;
  private delVolume: Database.Statement;
  private delPages: Database.Statement;
  private putParity: Database.Statement;
  private putPending: Database.Statement;
  private delPending: Database.Statement;
  private delParity: Database.Statement;
  private commitTx: (c: NvramCommit) => void;

  /** Opens (or with `create`, creates) the file. A damaged file is a CorruptionError that
   * names the recovery command; the file is never overwritten here. */
  constructor(readonly location: string, create: boolean, readonly dir: string) {
    let db: Database.Database | undefined;
    // made 0600 before SQLite opens it: SQLite gives the -wal and -shm files the same mode
    if (create && location !== ':memory:') createPrivateFile(location);
    try {
      db = new Database(location, { fileMustExist: !create });
      this.db = db;
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.pragma('foreign_keys = OFF');
      if (!create) {
        const result = this.db.pragma('quick_check', { simple: true });
        if (result !== 'ok') throw new Error(`quick_check: ${String(result)}`);
      }
      this.db.exec(SCHEMA);
      // schema 1 (before the directory log): its pages are from directory commit 0
      if (!hasColumn(this.db, 'directory_pages', 'commit_no')) this.db.exec('ALTER TABLE directory_pages ADD COLUMN commit_no INTEGER NOT NULL DEFAULT 0');
    } catch (err) {
      const e = err as Error & { code?: string };
      try {
        db?.close();
      } catch {
        // already broken
      }
      if (e.code === 'SQLITE_CANTOPEN') {
        throw new IoError(`cannot open ${location}: ${e.message}`, { path: location }, err);
      }
      throw new CorruptionError(
        `${location} is damaged (${e.message}); nothing was changed. Rebuild the directory from the disk files with: lsa recover --dir ${dir} --rebuild-directory`,
        { path: location },
        err,
      );
    }
    this.putPage = this.db.prepare('INSERT OR REPLACE INTO directory_pages (volume_id, page_no, entries, commit_no) VALUES (?, ?, ?, ?)');
    this.putLog = this.db.prepare('INSERT INTO directory_log (commit_no, entries) VALUES (?, ?)');
    this.delLogBefore = this.db.prepare('DELETE FROM directory_log WHERE commit_no < ?');
    this.putSegment = this.db.prepare(
      'INSERT OR REPLACE INTO segments (idx, state, live_bytes, trim_refs, fill_bytes, seq_last, closed_at_ms, stream) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.putMeta = this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    this.putVolume = this.db.prepare('INSERT INTO volumes (id, name, capacity_bytes, created_at_ms, compress) VALUES (?, ?, ?, ?, ?)');
    this.delVolume = this.db.prepare('DELETE FROM volumes WHERE id = ?');
    this.delPages = this.db.prepare('DELETE FROM directory_pages WHERE volume_id = ?');
    this.putParity = this.db.prepare('INSERT OR REPLACE INTO open_parity (segment, page_no, bytes) VALUES (?, ?, ?)');
    this.delParity = this.db.prepare('DELETE FROM open_parity WHERE segment = ?');
    this.putPending = this.db.prepare(
      'INSERT OR REPLACE INTO write_pending (seq, volume_id, track, track_count, flags, segment, slot, record_bytes, payload_bytes, payload_crc, timestamp_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.delPending = this.db.prepare('DELETE FROM write_pending WHERE seq = ? AND track = ?');
    this.commitTx = this.db.transaction((c: NvramCommit) => {
      for (const v of c.volumesAdded ?? []) this.putVolume.run(v.id, v.name, v.capacityBytes, v.createdAtMs, v.compress);
      for (const id of c.volumesRemoved ?? []) {
        this.delVolume.run(id);
        this.delPages.run(id);
      }
      const commitNo = c.directoryCommit ?? 0;
      for (const p of c.pages) this.putPage.run(p.volumeId, p.pageNo, p.bytes, commitNo);
      if (c.directoryLogBefore !== undefined) this.delLogBefore.run(c.directoryLogBefore);
      if (c.directoryLog) this.putLog.run(commitNo, c.directoryLog);
      for (const seg of c.parityDropped ?? []) this.delParity.run(seg);
      for (const d of c.pendingDeleted ?? []) this.delPending.run(d.seq, d.track);
      for (const r of c.pendingPut ?? []) {
        this.putPending.run(r.seq, r.volumeId, r.track, r.trackCount, r.flags, r.segment, r.slot, r.recordBytes, r.payloadBytes, r.payloadCrc, r.timestampMs);
      }
      for (const p of c.parityPages ?? []) this.putParity.run(p.segment, p.pageNo, p.bytes);
      for (const r of c.segments) this.putSegment.run(r.index, r.state, r.liveBytes, r.trimRefs, r.fillBytes, r.seqLast, r.closedAtMs, r.stream);
      for (const [k, v] of Object.entries(c.meta)) this.putMeta.run(k, v);
    });
  }

  meta(): Map<string, string> {
    return readMeta(this.db);
  }

  volumes(): VolumeRow[] {
    return readVolumes(this.db);
  }

  segments(): SegmentRow[] {
    return readSegments(this.db, this.location);
  }

  forEachPage(volumeId: number, visit: (pageNo: number, bytes: Buffer, commitNo: number) => void): void {
    forEachDirectoryPage(this.db, volumeId, visit);
  }

  forEachLogRow(visit: (commitNo: number, entries: Buffer) => void): void {
    forEachDirectoryLogRow(this.db, visit);
  }

  forEachParityPage(segment: number, visit: (pageNo: number, bytes: Buffer) => void): void {
    forEachOpenParityPage(this.db, segment, visit);
  }

  paritySegments(): number[] {
    return (this.db.prepare('SELECT DISTINCT segment FROM open_parity').raw(true).all() as [number][]).map((r) => r[0]);
  }

  pendingRows(): PendingRow[] {
    return readPendingRows(this.db);
  }

  commit(c: NvramCommit): void {
    this.commitTx(c);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
