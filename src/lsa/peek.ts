// A read-only look at an array that may be running in another process (`lsa serve` holds
// `<dir>/lock`, the disk files and NVRAM). It builds the same ArrayView as the engine from:
//   - the superblocks (geometry, array id, disk health), disk files opened O_RDONLY;
//   - NVRAM read in one read transaction (nvram-reader.ts): meta, volumes, directory pages,
//     the segment table, the write-pending directory, and the open segments' partial parity.
// It never writes: no lock file, no superblock generation, no recovery (an interrupted
// collection stays `collecting`, the sequence does not jump). What it shows is the running
// process's last commit; records appended since are not in the view yet. The disk bytes are
// read after the snapshot, so a segment the collector reused meanwhile reads as records that
// no longer match the directory (shown as garbage), never as an error.

import { DiskArray, diskPath } from '../array/disk-array';
import type { Geometry } from '../array/geometry';
import { CorruptionError, NotFoundError } from '../errors';
import { fileExists, joinPath } from '../io/files';
import { LockFile } from '../io/lock-file';
import { readOnlyDisks } from '../io/read-only-disk';
import type { ArrayView } from './array-view';
import { VolumeDirectory } from './directory';
import type { EngineStats } from './engine-ports';
import type { VolumeState } from './volume-state';
import { PARITY_PAGE_BYTES } from './nvram';
import { NvramReader } from './nvram-reader';
import { FORMAT_VERSION } from './open-array';
import { DirectoryJournal } from './directory-journal';
import { PendingDirectory } from './pending-directory';
import { SegmentTable } from './segment-table';
import { NVRAM_FILE } from './sqlite-nvram';

export interface PeekedArray extends ArrayView {
  close(): Promise<void>;
}

interface NvramState {
  volumesById: Map<number, VolumeState>;
  volumesByName: Map<string, VolumeState>;
  segments: SegmentTable;
  pending: PendingDirectory;
  directoryLogPages: number;
  stats: EngineStats;
  nextSeq: number;
  rebuildingDisk: number | null;
  /** Partial parity of each open segment (the whole column; zeros where no page exists). */
  openParity: Map<number, Buffer>;
}

export async function peekArray(dir: string): Promise<PeekedArray> {
  const location = joinPath(dir, NVRAM_FILE);
  if (!readOnlyDisks.exists(diskPath(dir, 0)) && !readOnlyDisks.exists(diskPath(dir, 1)) && !fileExists(location)) {
    throw new NotFoundError(`no array in ${dir} (create one with: lsa init --dir ${dir})`, { dir });
  }
  const array = await DiskArray.open(dir, readOnlyDisks);
  let reader: NvramReader | null = null;
  try {
    reader = NvramReader.open(location, dir);
    const r = reader;
    const state = r.snapshot(() => readState(r, array));
    if (state.rebuildingDisk !== null) array.markRebuilding(state.rebuildingDisk); // in memory only
    const layout = array.layout;
    const view: PeekedArray = {
      dir,
      arrayId: array.arrayId,
      layout,
      health: array.health,
      nvramLocation: location,
      segmentRows: state.segments.rows,
      volumesById: state.volumesById,
      volumesByName: state.volumesByName,
      stats: state.stats,
      nextSeq: state.nextSeq,
      pending: state.pending,
      directoryLogPages: state.directoryLogPages,
      access: { mode: 'read-only', heldByPid: LockFile.holder(dir) },
      isInMemory: () => false,
      isPinned: () => false,
      async readSegmentData(segment, from, to) {
        const out = Buffer.alloc(to - from);
        const cb = layout.columnBytes;
        const parity = state.openParity.get(segment);
        const fillBytes = state.segments.row(segment)?.fillBytes ?? 0;
        for (let pos = from; pos < to;) {
          const column = Math.floor(pos / cb);
          const end = Math.min(to, (column + 1) * cb);
          const offset = pos - column * cb;
          // an open segment's parity is not on disk yet: NVRAM's partial parity stands in
          const source = parity ? { parity: parity.subarray(offset, offset + end - pos), fillBytes } : undefined;
          await array.readColumn(segment, column, offset, out.subarray(pos - from, end - from), source);
          pos = end;
        }
        return out;
      },
      async close() {
        r.close();
        await array.close();
      },
    };
    return view;
  } catch (err) {
    reader?.close();
    await array.close().catch(() => undefined);
    throw err;
  }
}

/** Everything from NVRAM, checked against the superblocks as an open would (minus repairs). */
function readState(reader: NvramReader, array: DiskArray): NvramState {
  const meta = reader.meta();
  const where = reader.location;
  if (Number(meta.get('formatVersion')) !== FORMAT_VERSION) {
    throw new CorruptionError(`${where}: format version ${meta.get('formatVersion')} is not supported (this build reads ${FORMAT_VERSION})`);
  }
  if (meta.get('arrayId') !== array.arrayId) {
    throw new CorruptionError(`${where} belongs to array ${meta.get('arrayId')}, but the disk files are array ${array.arrayId}`);
  }
  const g = JSON.parse(meta.get('geometry') ?? '{}') as Geometry;
  const a = array.geometry;
  if (g.disks !== a.disks || g.columnBytes !== a.columnBytes || g.diskBytes !== a.diskBytes || g.trackBytes !== a.trackBytes) {
    throw new CorruptionError(`${where}: geometry differs from the superblocks`, { nvram: g, disks: a });
  }
  const layout = array.layout;
  const volumesById = new Map<number, VolumeState>();
  const volumesByName = new Map<string, VolumeState>();
  for (const row of reader.volumes()) {
    const tracks = Math.ceil(row.capacityBytes / layout.trackBytes);
    const v: VolumeState = { row, tracks, directory: new VolumeDirectory(tracks) };
    volumesById.set(row.id, v);
    volumesByName.set(row.name, v);
  }
  const journal = new DirectoryJournal();
  journal.load(reader, volumesById, where, array.dir);
  const segments = new SegmentTable(layout.segments);
  for (const row of reader.segments()) segments.load(row);
  const pending = new PendingDirectory();
  for (const row of reader.pendingRows()) pending.load(row);
  const stats: EngineStats = { hostBytesWritten: 0, hostBytesTrimmed: 0, gcBytesMoved: 0, segmentsCollected: 0, commits: 0, recordsRepaired: 0 };
  const statsJson = meta.get('stats');
  if (statsJson) Object.assign(stats, JSON.parse(statsJson) as Partial<EngineStats>);
  const rebuild = meta.get('rebuild');
  const openParity = new Map<number, Buffer>();
  if (array.degraded || rebuild) {
    for (const row of segments.rows) {
      if (row.state !== 'open') continue;
      const parity = Buffer.alloc(layout.columnBytes);
      reader.forEachParityPage(row.index, (pageNo, bytes) => bytes.copy(parity, pageNo * PARITY_PAGE_BYTES));
      openParity.set(row.index, parity);
    }
  }
  return {
    volumesById, volumesByName, segments, pending, stats, directoryLogPages: journal.pagesInLog,
    nextSeq: Number(meta.get('nextSeq') ?? '1'),
    rebuildingDisk: rebuild ? (JSON.parse(rebuild) as { disk: number }).disk : null,
    openParity,
  };
}
