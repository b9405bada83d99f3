// Host files that the CLI reads and writes (input data, output images), as opposed to disk
// files of an array.

import * as fs from 'node:fs';
import { IoError, NotFoundError } from '../errors';

export function fileSize(path: string): number {
  try {
    return fs.statSync(path).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`input file ${path} does not exist`, { path });
    throw new IoError(`cannot stat ${path}: ${(err as Error).message}`, { path }, err);
  }
}

/** Reads a host file chunk by chunk. */
export async function* readFileChunks(path: string, chunkBytes: number): AsyncGenerator<Buffer> {
  const fh = await fs.promises.open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'ENOENT' ? new NotFoundError(`input file ${path} does not exist`, { path }) : new IoError(`cannot open ${path}: ${err.message}`, { path }, err);
  });
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(chunkBytes);
      const { bytesRead } = await fh.read(buf, 0, chunkBytes, null);
      if (bytesRead === 0) return;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/** Reads all of a stream, failing once it passes `limitBytes`. */
export async function readStreamAll(stream: NodeJS.ReadableStream, limitBytes: number): Promise<Buffer | null> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    total += b.length;
    if (total > limitBytes) return null;
    parts.push(b);
  }
  return Buffer.concat(parts);
}

export class HostFileWriter {
  private constructor(private fd: number, readonly path: string) {}

  static create(path: string): HostFileWriter {
    try {
      return new HostFileWriter(fs.openSync(path, 'w'), path);
    } catch (err) {
      throw new IoError(`cannot create ${path}: ${(err as Error).message}`, { path }, err);
    }
  }

  write(buf: Buffer, position: number): void {
    let done = 0;
    while (done < buf.length) done += fs.writeSync(this.fd, buf, done, buf.length - done, position + done);
  }

  /** Leaves a hole: makes the file `bytes` long without writing. */
  truncate(bytes: number): void {
    fs.ftruncateSync(this.fd, bytes);
  }

  close(sync = true): void {
    if (sync) fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
  }
}

export function writeStdout(buf: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(buf, (err) => (err ? reject(err) : resolve()));
  });
}

export function writeTextFile(path: string, text: string): void {
  try {
    fs.writeFileSync(path, text);
  } catch (err) {
    throw new IoError(`cannot write ${path}: ${(err as Error).message}`, { path }, err);
  }
}
