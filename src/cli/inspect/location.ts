// Where bytes of a segment's data area sit in the disk files: the column a slot falls in,
// the disk that holds that column (it rotates with the segment, see geometry.ts) and the
// byte offset in that disk file, so `hexdump -s OFFSET FILE` shows them.

import { diskPath } from '../../array/disk-array';
import type { ArrayView } from '../../lsa/array-view';

export interface FileLocation {
  column: number;
  offsetInColumn: number;
  disk: number;
  diskPath: string;
  diskHealth: string;
  fileOffset: number;
}

export function locateSlot(view: ArrayView, segment: number, slot: number): FileLocation {
  const l = view.layout;
  const column = Math.floor(slot / l.columnBytes);
  const offsetInColumn = slot - column * l.columnBytes;
  const disk = l.dataDisk(segment, column);
  return {
    column,
    offsetInColumn,
    disk,
    diskPath: diskPath(view.dir, disk),
    diskHealth: view.health[disk] ?? 'missing',
    fileOffset: l.segmentOffset(segment) + offsetInColumn,
  };
}

/** The shell command that dumps `length` bytes at `offset` of `file`. */
export function hexdumpCommand(file: string, offset: number, length: number): string {
  return `hexdump -C -s ${offset} -n ${length} ${shellQuote(file)}`;
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
