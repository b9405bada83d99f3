// One process at a time per array: `<dir>/lock` holds the owner's PID. A lock whose process
// is gone (killed with SIGKILL, say) is taken over.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { InUseError, IoError } from '../errors';
import { PRIVATE_FILE_MODE } from './files';

export const LOCK_FILE = 'lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class LockFile {
  private constructor(readonly path: string) {}

  static acquire(dir: string): LockFile {
    const file = path.join(dir, LOCK_FILE);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = fs.openSync(file, 'wx', PRIVATE_FILE_MODE);
        fs.fchmodSync(fd, PRIVATE_FILE_MODE);
        fs.writeSync(fd, `${process.pid}\n`);
        fs.closeSync(fd);
        return new LockFile(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new IoError(`cannot create ${file}: ${(err as Error).message}`, { path: file }, err);
        }
      }
      let pid = NaN;
      try {
        pid = parseInt(fs.readFileSync(file, 'utf8'), 10);
      } catch {
        continue; // removed meanwhile: try again
      }
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        const who = pid === process.pid ? 'this process' : `PID ${pid}`;
        throw new InUseError(`the array in ${dir} is in use by ${who}; stop that process first (or remove ${file} if you are sure it is gone)`, { dir, pid });
      }
      try {
        fs.unlinkSync(file); // stale: its owner died
      } catch {
        // someone else took it over; loop
      }
    }
    throw new InUseError(`could not take the lock ${file}`, { dir });
  }

  /** The PID of the live process that holds the lock of `dir`, or null (no lock file, or
   * its owner is gone). Only looks: never creates or removes the lock. */
  static holder(dir: string): number | null {
    let pid = NaN;
    try {
      pid = parseInt(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8'), 10);
    } catch {
      return null;
    }
    return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : null;
  }

  release(): void {
    try {
      fs.unlinkSync(this.path);
    } catch {
      // gone already
    }
  }
}
