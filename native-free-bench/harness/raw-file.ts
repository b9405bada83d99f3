// The baseline of the system scenarios: a plain file written (or read) with Node's fs, the way
// a program without an LSA would store the same bytes. Callback-style positional I/O, as the
// engine's own real-disk layer uses, so both sides pay the same libuv costs.

import * as fs from 'node:fs';

export class RawFile {
  private constructor(readonly path: string, private fd: number) {}

  /** Creates the file; with `sizeBytes`, truncates it to that size (sparse, no blocks). */
  static create(path: string, sizeBytes = 0): RawFile {
    const fd = fs.openSync(path, 'wx+');
    if (sizeBytes > 0) fs.ftruncateSync(fd, sizeBytes);
    return new RawFile(path, fd);
  }

  /** Opens an existing file for reading (the degraded scenario reads the disk files). */
  static openForReading(path: string): RawFile {
    return new RawFile(path, fs.openSync(path, 'r'));
  }

  /** Fills `buf` from `position` (short only at the end of the file); returns the bytes read. */
  read(buf: Buffer, position: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const step = (done: number): void => {
        if (done === buf.length) return resolve(done);
        fs.read(this.fd, buf, done, buf.length - done, position + done, (err, n) => (err ? reject(err) : n === 0 ? resolve(done) : step(done + n)));
      };
      step(0);
    });
  }

  write(data: Buffer, position: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const step = (done: number): void => {
        if (done === data.length) return resolve();
        fs.write(this.fd, data, done, data.length - done, position + done, (err, n) => (err ? reject(err) : step(done + n)));
      };
      step(0);
    });
  }

  fsync(): Promise<void> {
    return new Promise((resolve, reject) => fs.fsync(this.fd, (err) => (err ? reject(err) : resolve())));
  }

  fdatasync(): Promise<void> {
    return new Promise((resolve, reject) => fs.fdatasync(this.fd, (err) => (err ? reject(err) : resolve())));
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}
