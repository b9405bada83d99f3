// Secrets kept beside an array (replication.key, control.token): random bytes written as hex on
// one line, mode 0600. Reading one is strict, because a secret that others can read, or that
// a link points somewhere else, protects nothing:
//   - a symbolic link is refused (never followed: lstat, then O_NOFOLLOW);
//   - a file that group or others may read or write is refused, naming `chmod 600` (the mode
//     is never fixed silently: whoever loosened it should know);
//   - the text must be hex of even length, at least SECRET_BYTES_MIN bytes.

import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { InvalidArgumentError, IoError, NotFoundError } from '../errors';
import { PRIVATE_FILE_MODE } from './files';

/** Bytes of a new secret. */
export const SECRET_BYTES = 32;
/** The fewest bytes a secret read back may have. */
export const SECRET_BYTES_MIN = 32;

/** Creates `path` with a new random secret unless something is there already (true: created).
 * The mode is set after the create, so a umask cannot change it. */
export function createSecretFile(path: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(path, 'wx', PRIVATE_FILE_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new IoError(`cannot create ${path}: ${(err as Error).message}`, { path }, err);
  }
  try {
    fs.fchmodSync(fd, PRIVATE_FILE_MODE);
    fs.writeSync(fd, randomBytes(SECRET_BYTES).toString('hex') + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/** What a secret is called in messages, and what to do when it is missing. */
export interface SecretKind {
  /** "replication key", "control token". */
  what: string;
  missingHint: string;
}

/** The mode of `path` if it is fit to hold a secret; otherwise the reason, with the fix. */
function refusal(path: string, st: fs.Stats, kind: SecretKind): string | null {
  if (st.isSymbolicLink()) return `${kind.what} ${path} is a symbolic link; secrets are not read through links: put the file itself there, or name it directly`;
  if (!st.isFile()) return `${kind.what} ${path} is not a regular file`;
  const loose = st.mode & 0o077;
  if (loose !== 0) {
    return `${kind.what} ${path} has mode 0${(st.mode & 0o777).toString(8)}: group or others may read it. Run: chmod 600 ${path}   (then consider the secret exposed and rotate it, see docs/SECURITY.md)`;
  }
  return null;
}

/** Reads and checks a secret file; returns the secret's bytes. */
export function readSecretFile(path: string, kind: SecretKind): Buffer {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`${kind.what} ${path} is missing; ${kind.missingHint}`, { path });
    throw new IoError(`cannot look at ${kind.what} ${path}: ${(err as Error).message}`, { path }, err);
  }
  const why = refusal(path, st, kind);
  if (why) throw new InvalidArgumentError(why, { path });
  let text: string;
  let fd = -1;
  try {
    // O_NOFOLLOW: a link swapped in after the lstat is refused too
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    const again = refusal(path, fs.fstatSync(fd), kind);
    if (again) throw new InvalidArgumentError(again, { path });
    text = fs.readFileSync(fd, 'utf8').trim();
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new InvalidArgumentError(`${kind.what} ${path} is a symbolic link; secrets are not read through links`, { path });
    throw new IoError(`cannot read ${kind.what} ${path}: ${(err as Error).message}`, { path }, err);
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
  if (!/^[0-9a-fA-F]*$/.test(text)) throw new InvalidArgumentError(`${kind.what} ${path} is not hex (one line of 0-9, a-f)`, { path });
  if (text.length % 2 !== 0) throw new InvalidArgumentError(`${kind.what} ${path} has an odd number of hex digits (${text.length}); a byte takes two`, { path });
  if (text.length < 2 * SECRET_BYTES_MIN) {
    throw new InvalidArgumentError(`${kind.what} ${path} holds ${text.length / 2} bytes; at least ${SECRET_BYTES_MIN} are needed (a new one: od -An -tx1 -N${SECRET_BYTES} /dev/urandom | tr -d ' \\n' > FILE; see docs/SECURITY.md)`, { path });
  }
  return Buffer.from(text, 'hex');
}
