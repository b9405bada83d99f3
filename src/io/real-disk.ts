// Disk files as real sparse files, with positional I/O on file descriptors.

import * as fs from 'node:fs';
import { AlreadyExistsError, IoError, NotFoundError, ReadOnlyError } from '../errors';
import type { DiskFile, DiskSystem } from './disk-file';

function ioError(op: string, path: string, err: NodeJS.ErrnoException): IoError {
  return new IoError(`${op} ${path}: ${err.message}`, { path, op, errno: err.code }, err);
}

function readAt(fd: number, buf: Buffer, at: number, pos: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.read(fd, buf, at, buf.length - at, pos, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

function writeAt(fd: number, buf: Buffer, at: number, pos: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.write(fd, buf, at, buf.length - at, pos, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

class RealDiskFile implements DiskFile {
  constructor(readonly path: string, readonly sizeBytes: number, private fd: number, private readonly readOnly = false) {}

  async read(buf: Buffer, offset: number): Promise<number> {
    let done = 0;
    try {
      while (done < buf.length) {
        const n = await readAt(this.fd, buf, done, offset + done);
        if (n === 0) break;
        done += n;
      }
    } catch (err) {
      throw ioError('read', this.path, err as NodeJS.ErrnoException);
    }
    if (done < buf.length) buf.fill(0, done);
    return done;
  }

  async write(buf: Buffer, offset: number): Promise<void> {
    if (this.readOnly) throw readOnlyError('write', this.path);
    let done = 0;
    try {
      while (done < buf.length) done += await writeAt(this.fd, buf, done, offset + done);
    } catch (err) {
      throw ioError('write', this.path, err as NodeJS.ErrnoException);
    }
  }

  sync(): Promise<void> {
    if (this.readOnly) return Promise.reject(readOnlyError('fsync', this.path));
    return new Promise((resolve, reject) => {
      fs.fdatasync(this.fd, (err) => (err ? reject(ioError('fsync', this.path, err)) : resolve()));
    });
  }

  close(): Promise<void> {
    const fd = this.fd;
    this.fd = -1;
    return new Promise((resolve) => fs.close(fd, () => resolve()));
  }
}

function readOnlyError(op: string, path: string): ReadOnlyError {
  return new ReadOnlyError(`${op} ${path}: disk files are open read-only here (inspection never writes)`, { path, op });
}

/** Opens an existing disk file; read-only handles refuse writes and syncs. */
export function openDiskFile(path: string, readOnly: boolean): DiskFile {
  let fd: number;
  try {
    fd = fs.openSync(path, readOnly ? 'r' : 'r+');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new NotFoundError(`disk file ${path} is missing`, { path });
    throw ioError('open', path, e);
  }
  return new RealDiskFile(path, fs.fstatSync(fd).size, fd, readOnly);
}

export function lengthOfFile(path: string): number {
  try {
    return fs.statSync(path).size;
  } catch {
    return -1;
  }
}

export const realDisks: DiskSystem = {
  async create(path, sizeBytes) {
    let fd: number;
    try {
      fd = fs.openSync(path, 'wx+');
      fs.ftruncateSync(fd, sizeBytes);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EEXIST') throw new AlreadyExistsError(`${path} exists already`, { path });
      throw ioError('create', path, e);
    }
    return new RealDiskFile(path, sizeBytes, fd);
  },

  async replace(path, sizeBytes) {
    try {
      fs.rmSync(path, { force: true });
    } catch (err) {
      throw ioError('remove', path, err as NodeJS.ErrnoException);
    }
    return realDisks.create(path, sizeBytes);
  },

  async open(path) {
    return openDiskFile(path, false);
  },

  exists(path) {
    return fs.existsSync(path);
  },

  lengthOf: lengthOfFile,
};
