// The one I/O seam for disk files. Everything above src/io/ reads and writes disks through
// these two interfaces only, so tests can swap the real files for a simulated disk that
// remembers what was synced and can crash, tear writes and fail operations.

/** How a write may be carried out. */
export interface WriteHint {
  /** The buffer is page-aligned memory that stays untouched until the write completes, so the
   * file may send it straight to the medium, bypassing its cache (O_DIRECT) when the offset
   * and length allow. Only a speed hint: the data is durable after `sync` either way. */
  direct?: boolean;
}

export interface DiskFile {
  readonly path: string;
  /** Size in bytes as created (the file may be shorter if it was truncated behind our back). */
  readonly sizeBytes: number;
  /** Fills `buf` from byte `offset`; bytes past the end of the file read as zeros. Returns the
   * count of bytes that were really present in the file. */
  read(buf: Buffer, offset: number): Promise<number>;
  write(buf: Buffer, offset: number, hint?: WriteHint): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface DiskSystem {
  /** Creates a new sparse file of `sizeBytes`; fails if it exists. */
  create(path: string, sizeBytes: number): Promise<DiskFile>;
  /** Replaces whatever is at `path` (a failed disk) with a new blank sparse file. */
  replace(path: string, sizeBytes: number): Promise<DiskFile>;
  /** Opens an existing file for reading and writing. */
  open(path: string): Promise<DiskFile>;
  exists(path: string): boolean;
  /** Current length of the file on its medium, or -1 if it is missing. */
  lengthOf(path: string): number;
}
