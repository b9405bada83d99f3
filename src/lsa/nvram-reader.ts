// NVRAM opened for reading only, for looking at an array another process runs. It never
// writes: no schema creation, no pragmas that change the file, no quick_check, and it does
// not create `-wal`/`-shm` files where none exist:
//   - `nvram.sqlite-wal` exists (a server has the database open, or crashed with a WAL):
//     a read-only WAL reader on the file; SQLite lets it read while the writer commits, and
//     it sees the last commit (the WAL is part of the database);
//   - no WAL (nobody has it open): a read-only SQLite connection would create `-wal` and
//     `-shm` and leave them behind, so the file is read into memory and opened from there
//     (header bytes 18..19 set from WAL to rollback mode: an in-memory image cannot be WAL).
// All reads of one look go through `snapshot`, one read transaction, so the tables agree
// with each other (one commit, not pieces of two).
//
// The queries are shared with sqlite-nvram.ts (nvram-queries.ts); only the opening differs:
// that class opens the file for writing (schema, WAL and sync pragmas), this one must not.

import Database from 'better-sqlite3';
import { CorruptionError, IoError, NotFoundError } from '../errors';
import { fileExists, readWholeFile } from '../io/files';
import type { VolumeRow } from './nvram';
import type { PendingRow } from './pending-directory';
import { forEachDirectoryLogRow, forEachDirectoryPage, hasTable, forEachOpenParityPage, readMeta, readPendingRows, readSegments, readVolumes } from './nvram-queries';
import type { SegmentRow } from './segment-table';

/** SQLite header bytes holding the file format write/read versions (2 = WAL, 1 = rollback). */
const HEADER_WRITE_VERSION_AT = 18;
const HEADER_READ_VERSION_AT = 19;

export class NvramReader {
  private constructor(private db: Database.Database, readonly location: string, readonly mode: 'wal-reader' | 'memory-copy') {}

  static open(location: string, dir: string): NvramReader {
    if (!fileExists(location)) {
      throw new NotFoundError(`${location} is missing: no array in ${dir}, or its directory is gone (lsa recover --dir ${dir} --rebuild-directory rebuilds it)`, { dir });
    }
    const walExists = fileExists(`${location}-wal`);
    let db: Database.Database | undefined;
    try {
      if (walExists) {
        db = new Database(location, { readonly: true, fileMustExist: true });
      } else {
        const image = readWholeFile(location);
        if (image.length > HEADER_READ_VERSION_AT) {
          image[HEADER_WRITE_VERSION_AT] = 1;
          image[HEADER_READ_VERSION_AT] = 1;
        }
        db = new Database(image, { readonly: true });
      }
      return new NvramReader(db, location, walExists ? 'wal-reader' : 'memory-copy');
    } catch (err) {
      const e = err as Error & { code?: string };
      try {
        db?.close();
      } catch {
        // already broken
      }
      if (e instanceof NotFoundError || e instanceof IoError) throw e;
      if (e.code === 'SQLITE_CANTOPEN') throw new IoError(`cannot open ${location} read-only: ${e.message}`, { path: location }, err);
      throw new CorruptionError(`${location} cannot be read (${e.message}); lsa check --dir ${dir} tells more`, { path: location }, err);
    }
  }

  /** Runs `read` inside one read transaction: everything it reads is from one commit. */
  snapshot<T>(read: () => T): T {
    try {
      return this.db.transaction(read)();
    } catch (err) {
      const e = err as Error & { code?: string };
      if (typeof e.code === 'string' && e.code.startsWith('SQLITE_')) {
        throw new CorruptionError(`${this.location}: ${e.message}`, { path: this.location }, err);
      }
      throw err;
    }
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
    if (hasTable(this.db, 'open_parity')) forEachOpenParityPage(this.db, segment, visit);
  }

  pendingRows(): PendingRow[] {
    // tables added by later versions may be missing from a file an older build wrote (this
    // reader cannot add them: it is read-only)
    return hasTable(this.db, 'write_pending') ? readPendingRows(this.db) : [];
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
