// Disk files opened read-only (O_RDONLY), for looking at an array that another process is
// running (`lsa inspect` of an array in use, `--watch`). Nothing can be created, replaced,
// written or synced through this system: each such call is a ReadOnlyError, so a code path
// that would write is caught at the seam rather than changing a live array.

import * as fs from 'node:fs';
import { IoError, NotFoundError, ReadOnlyError } from '../errors';
import type { DiskFile, DiskSystem } from './disk-file';

function refuse(op: string, path: string): never {
  throw new ReadOnlyError(`${op} ${path}: disk files are open read-only here (inspection never writes)`, { path, op });
}

class ReadOnlyDiskFile implements DiskFile {
  constructor(readonly path: string, readonly sizeBytes: number, private fd: number) {}

  async read(buf: Buffer, offset: number): Promise<number> {
    let done = 0;
    try {
      while (done < buf.length) {
        const { bytesRead } = await readAt(this.fd, buf, done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
    } catch (err) {
      throw new IoError(`read ${this.path}: ${(err as Error).message}`, { path: this.path, op: 'read' }, err);
    }
    if (done < buf.length) buf.fill(0, done);
    return done;
  }

  write(): Promise<void> {
    return Promise.reject(new ReadOnlyError(`write ${this.path}: disk files are open read-only here (inspection never writes)`, { path: this.path }));
  }

  sync(): Promise<void> {
    return Promise.reject(new ReadOnlyError(`fsync ${this.path}: disk files are open read-only here`, { path: this.path }));
  }

  close(): Promise<void> {
    const fd = this.fd;
    this.fd = -1;
    return new Promise((resolve) => fs.close(fd, () => resolve()));
  }
}

function readAt(fd: number, buf: Buffer, at: number, pos: number): Promise<{ bytesRead: number }> {
  return new Promise((resolve, reject) => {
    fs.read(fd, buf, at, buf.length - at, pos, (err, bytesRead) => (err ? reject(err) : resolve({ bytesRead })));
  });
}

export const readOnlyDisks: DiskSystem = {
  create: async (path) => refuse('create', path),
  replace: async (path) => refuse('replace', path),

  async open(path) {
    let fd: number;
    try {
      fd = fs.openSync(path, 'r');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT') throw new NotFoundError(`disk file ${path} is missing`, { path });
      throw new IoError(`open ${path}: ${e.message}`, { path, op: 'open', errno: e.code }, err);
    }
    return new ReadOnlyDiskFile(path, fs.fstatSync(fd).size, fd);
  },

  exists(path) {
    return fs.existsSync(path);
  },

  lengthOf(path) {
    try {
      return fs.statSync(path).size;
    } catch {
      return -1;
    }
  },
};
