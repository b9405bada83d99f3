// Power loss at an exact instruction, for the in-process crash campaign. Wraps a disk system
// and an NVRAM store and counts what changes durable state: disk writes, syncs and NVRAM
// commits. When the armed count is reached, that operation and every later one fail as if the
// power went out just before it; the simulated disk then decides (crash()) which unsynced
// writes survive, whole or torn. With the NVRAM commit counted as an operation, a cut can fall
// between "data synced" and "directory committed", or just after the commit.
//
// Wrapping with proxies keeps this file independent of methods the interfaces gain later:
// only the operations named here are intercepted; everything else is passed through.

import { IoError } from '../errors';
import type { DiskFile, DiskSystem } from '../io/disk-file';
import type { NvramStore } from '../lsa/nvram';

const FILE_OPS = new Set(['write', 'sync']);
const SYSTEM_OPS_RETURNING_FILES = new Set(['create', 'open', 'replace']);

export class PowerCut {
  /** Operations counted so far (writes, syncs, commits). */
  ops = 0;
  tripped = false;
  private tripAt = -1;

  /** The `k`-th counted operation from now (1-based) is the first that does not happen. */
  armAt(k: number): void {
    this.tripAt = this.ops + Math.max(1, k);
  }

  private tick(what: string): void {
    if (!this.tripped && this.tripAt > 0 && this.ops + 1 >= this.tripAt) this.tripped = true;
    if (this.tripped) throw new IoError(`${what}: the power is out (simulated cut after ${this.ops} operations)`, { injected: true, op: what });
    this.ops++;
  }

  disks(inner: DiskSystem): DiskSystem {
    return new Proxy(inner, {
      get: (target, prop, receiver) => {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        if (typeof prop === 'string' && SYSTEM_OPS_RETURNING_FILES.has(prop)) {
          return async (...args: unknown[]) => this.file(await (value as (...a: unknown[]) => Promise<DiskFile>).apply(target, args));
        }
        return (value as (...a: unknown[]) => unknown).bind(target);
      },
    });
  }

  private file(inner: DiskFile): DiskFile {
    return new Proxy(inner, {
      get: (target, prop, receiver) => {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        if (typeof prop === 'string' && FILE_OPS.has(prop)) {
          return async (...args: unknown[]) => {
            this.tick(`${prop} ${target.path}`);
            return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          };
        }
        return (value as (...a: unknown[]) => unknown).bind(target);
      },
    });
  }

  nvram(inner: NvramStore): NvramStore {
    return new Proxy(inner, {
      get: (target, prop, receiver) => {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        if (prop === 'commit') {
          return (...args: unknown[]) => {
            this.tick('nvram commit');
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return (value as (...a: unknown[]) => unknown).bind(target);
      },
    });
  }
}
