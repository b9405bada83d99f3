// The replication key: `<dir>/replication.key`, 32 random bytes as hex, mode 0600.

import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { InvalidArgumentError, NotFoundError } from '../errors';

export const KEY_FILE = 'replication.key';

export function ensureKeyFile(path: string): boolean {
  if (fs.existsSync(path)) return false;
  fs.writeFileSync(path, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  return true;
}

export function readKeyFile(path: string): Buffer {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NotFoundError(`replication key ${path} is missing; copy the primary's key there, or pass --key-file`, { path });
    }
    throw new InvalidArgumentError(`cannot read replication key ${path}: ${(err as Error).message}`, { path });
  }
  if (!/^[0-9a-fA-F]{32,}$/.test(text)) {
    throw new InvalidArgumentError(`replication key ${path} is not a hex key of at least 16 bytes`, { path });
  }
  const mode = fs.statSync(path).mode & 0o077;
  if (mode !== 0) fs.chmodSync(path, 0o600);
  return Buffer.from(text, 'hex');
}
