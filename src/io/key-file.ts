// The replication key: `<dir>/replication.key`, 32 random bytes as hex, mode 0600 (the rules of
// every secret file are in secret-file.ts).

import { createSecretFile, readSecretFile } from './secret-file';

export const KEY_FILE = 'replication.key';

export function ensureKeyFile(path: string): boolean {
  return createSecretFile(path);
}

export function readKeyFile(path: string): Buffer {
  return readSecretFile(path, { what: 'replication key', missingHint: 'copy the primary\'s key there, or pass --key-file' });
}
