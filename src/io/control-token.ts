// The control API's credential: `<dir>/control.token` of the primary, 32 random bytes as hex,
// mode 0600 (secret-file.ts has the rules). `lsa serve --control` checks every request's
// `Authorization: Bearer <token>` against it; the CLI reads the same file (from --dir, or
// --token-file) to send it.

import { joinPath } from './files';
import { createSecretFile, readSecretFile } from './secret-file';

export const CONTROL_TOKEN_FILE = 'control.token';

export function controlTokenPath(dir: string): string {
  return joinPath(dir, CONTROL_TOKEN_FILE);
}

/** Creates the token file unless it exists; true when it was created. */
export function ensureControlToken(path: string): boolean {
  return createSecretFile(path);
}

/** The token as the hex text a client sends (lower case). */
export function readControlToken(path: string): string {
  return readSecretFile(path, {
    what: 'control token',
    missingHint: 'lsa init writes it, and lsa serve --control creates it in the primary\'s folder; pass that folder with --dir, or the file with --token-file',
  }).toString('hex');
}
