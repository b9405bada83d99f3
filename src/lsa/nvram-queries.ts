// The reads of NVRAM, shared by the store that writes it (sqlite-nvram.ts) and the read-only
// look at an array another process runs (nvram-reader.ts). Pure queries: nothing here writes.

import type Database from 'better-sqlite3';
import { CorruptionError } from '../errors';
import type { VolumeRow } from './nvram';
import type { PendingRow } from './pending-directory';
import type { SegmentRow, SegmentState } from './segment-table';

const STATES = new Set<string>(['free', 'open', 'closed', 'collecting']);

export function readMeta(db: Database.Database): Map<string, string> {
  const rows = db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[];
  return new Map(rows.map((r) => [r.key, r.value]));
}

export function readVolumes(db: Database.Database): VolumeRow[] {
  const rows = db.prepare('SELECT id, name, capacity_bytes, created_at_ms, compress FROM volumes ORDER BY id').all() as {
    id: number; name: string; capacity_bytes: number; created_at_ms: number; compress: string;
  }[];
  return rows.map((r) => ({ id: r.id, name: r.name, capacityBytes: r.capacity_bytes, createdAtMs: r.created_at_ms, compress: r.compress }));
}

export function readSegments(db: Database.Database, location: string): SegmentRow[] {
  const rows = db.prepare('SELECT idx, state, live_bytes, trim_refs, fill_bytes, seq_last, closed_at_ms, stream FROM segments').all() as {
    idx: number; state: string; live_bytes: number; trim_refs: number; fill_bytes: number; seq_last: number; closed_at_ms: number; stream: number;
  }[];
  return rows.map((r) => {
    if (!STATES.has(r.state)) throw new CorruptionError(`segment ${r.idx} has unknown state "${r.state}" in ${location}`);
    return {
      index: r.idx, state: r.state as SegmentState, liveBytes: r.live_bytes, trimRefs: r.trim_refs,
      fillBytes: r.fill_bytes, seqLast: r.seq_last, closedAtMs: r.closed_at_ms, stream: r.stream,
    };
  });
}

export function forEachDirectoryPage(db: Database.Database, volumeId: number, visit: (pageNo: number, bytes: Buffer, commitNo: number) => void): void {
  // a schema 1 file (read-only, not migrated) has no commit_no: its pages are from commit 0
  const commitNo = hasColumn(db, 'directory_pages', 'commit_no') ? 'commit_no' : '0';
  const stmt = db.prepare(`SELECT page_no, entries, ${commitNo} FROM directory_pages WHERE volume_id = ?`).raw(true);
  for (const row of stmt.iterate(volumeId) as Iterable<[number, Buffer, number]>) visit(row[0], row[1], row[2]);
}

export function forEachDirectoryLogRow(db: Database.Database, visit: (commitNo: number, entries: Buffer) => void): void {
  if (!hasTable(db, 'directory_log')) return; // schema 1
  const stmt = db.prepare('SELECT commit_no, entries FROM directory_log ORDER BY commit_no').raw(true);
  for (const row of stmt.iterate() as Iterable<[number, Buffer]>) visit(row[0], row[1]);
}

export function hasTable(db: Database.Database, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

export function hasColumn(db: Database.Database, table: string, column: string): boolean {
  return (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).some((c) => c.name === column);
}

export function forEachOpenParityPage(db: Database.Database, segment: number, visit: (pageNo: number, bytes: Buffer) => void): void {
  const stmt = db.prepare('SELECT page_no, bytes FROM open_parity WHERE segment = ?').raw(true);
  for (const row of stmt.iterate(segment) as Iterable<[number, Buffer]>) visit(row[0], row[1]);
}

export function readPendingRows(db: Database.Database): PendingRow[] {
  const rows = db.prepare('SELECT * FROM write_pending ORDER BY seq, track').all() as Record<string, number>[];
  return rows.map((r) => ({
    seq: r.seq, volumeId: r.volume_id, track: r.track, trackCount: r.track_count, flags: r.flags, segment: r.segment, slot: r.slot,
    recordBytes: r.record_bytes, payloadBytes: r.payload_bytes, payloadCrc: r.payload_crc, timestampMs: r.timestamp_ms,
  }));
}
