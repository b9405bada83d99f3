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
// The queries repeat those of sqlite-nvram.ts on purpose: that class opens the file for
// writing (schema, WAL and sync pragmas), which is exactly what this one must not do.

import Database from 'better-sqlite3';
import { CorruptionError, IoError, NotFoundError } from '../errors';
import { fileExists, readWholeFile } from '../io/files';
import type { VolumeRow } from './nvram';
import type { PendingRow } from './pending';
import type { SegmentRow, SegmentState } from './segment-table';

const STATES = new Set<string>(['free', 'open', 'closed', 'collecting']);
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
    const rows = this.db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[];
    return new Map(rows.map((r) => [r.key, r.value]));
  }

  volumes(): VolumeRow[] {
    const rows = this.db.prepare('SELECT id, name, capacity_bytes, created_at_ms, compress FROM volumes ORDER BY id').all() as {
      id: number; name: string; capacity_bytes: number; created_at_ms: number; compress: string;
    }[];
    return rows.map((r) => ({ id: r.id, name: r.name, capacityBytes: r.capacity_bytes, createdAtMs: r.created_at_ms, compress: r.compress }));
  }

  segments(): SegmentRow[] {
    const rows = this.db.prepare('SELECT idx, state, live_bytes, trim_refs, fill_bytes, seq_last, closed_at_ms, stream FROM segments').all() as {
      idx: number; state: string; live_bytes: number; trim_refs: number; fill_bytes: number; seq_last: number; closed_at_ms: number; stream: number;
    }[];
    return rows.map((r) => {
      if (!STATES.has(r.state)) throw new CorruptionError(`segment ${r.idx} has unknown state "${r.state}" in ${this.location}`);
      return {
        index: r.idx, state: r.state as SegmentState, liveBytes: r.live_bytes, trimRefs: r.trim_refs,
        fillBytes: r.fill_bytes, seqLast: r.seq_last, closedAtMs: r.closed_at_ms, stream: r.stream,
      };
    });
  }

  forEachPage(volumeId: number, visit: (pageNo: number, bytes: Buffer) => void): void {
    const stmt = this.db.prepare('SELECT page_no, entries FROM directory_pages WHERE volume_id = ?').raw(true);
    for (const row of stmt.iterate(volumeId) as Iterable<[number, Buffer]>) visit(row[0], row[1]);
  }

  forEachParityPage(segment: number, visit: (pageNo: number, bytes: Buffer) => void): void {
    if (!this.hasTable('open_parity')) return;
    const stmt = this.db.prepare('SELECT page_no, bytes FROM open_parity WHERE segment = ?').raw(true);
    for (const row of stmt.iterate(segment) as Iterable<[number, Buffer]>) visit(row[0], row[1]);
  }

  pendingRows(): PendingRow[] {
    if (!this.hasTable('write_pending')) return [];
    const rows = this.db.prepare('SELECT * FROM write_pending ORDER BY seq, track').all() as Record<string, number>[];
    return rows.map((r) => ({
      seq: r.seq, volumeId: r.volume_id, track: r.track, trackCount: r.track_count, flags: r.flags, segment: r.segment, slot: r.slot,
      recordBytes: r.record_bytes, payloadBytes: r.payload_bytes, payloadCrc: r.payload_crc, timestampMs: r.timestamp_ms,
    }));
  }

  /** Tables added by later versions may be missing from a file an older build wrote (it can't
   * create them: it is read-only). */
  private hasTable(name: string): boolean {
    return this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
