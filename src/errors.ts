// One error taxonomy for the whole project. Every error that crosses a layer boundary is one
// of these classes, with a stable `code` (documented in docs/ERRORS.md), an optional `cause`
// and structured `data`. Mapping to CLI exit codes lives in `exitCodeOf` below and nowhere
// else; mapping to NBD errno values lives in the NBD front end, in one function.

export type ErrorData = Record<string, unknown>;

export class LsaError extends Error {
  readonly code: string;
  readonly data: ErrorData;

  constructor(code: string, message: string, data: ErrorData = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
    this.code = code;
    this.data = data;
  }
}

/** A caller passed something impossible: a bad size, a range outside a volume, a bad flag. */
export class InvalidArgumentError extends LsaError {
  constructor(message: string, data: ErrorData = {}) {
    super('LSA_INVALID_ARGUMENT', message, data);
  }
}

/** A named thing (array, volume, snapshot) does not exist. */
export class NotFoundError extends LsaError {
  constructor(message: string, data: ErrorData = {}) {
    super('LSA_NOT_FOUND', message, data);
  }
}

/** A thing to be created exists already. */
export class AlreadyExistsError extends LsaError {
  constructor(message: string, data: ErrorData = {}) {
    super('LSA_ALREADY_EXISTS', message, data);
  }
}

/** Bytes read from disk are not what was written: bad magic, bad CRC, impossible fields. */
export class CorruptionError extends LsaError {
  constructor(message: string, data: ErrorData = {}, cause?: unknown) {
    super('LSA_CORRUPTION', message, data, cause);
  }
}

/** Data cannot be read or reconstructed: more columns of a segment are lost than parity
 * can cover. Names what is lost; never replaced by wrong bytes. */
export class DataLostError extends LsaError {
  constructor(message: string, data: ErrorData = {}, cause?: unknown) {
    super('LSA_DATA_LOST', message, data, cause);
  }
}

/** The array has no free segment left for a write; trim something to make room. */
export class OutOfSpaceError extends LsaError {
  constructor(message: string, data: ErrorData = {}) {
    super('LSA_OUT_OF_SPACE', message, data);
  }
}

/** Another process holds the array. */
export class InUseError extends LsaError {
  constructor(message: string, data: ErrorData = {}) {
    super('LSA_IN_USE', message, data);
  }
}

/** A disk file failed an operation (EIO, ENOSPC of the host filesystem, ...). */
export class IoError extends LsaError {
  constructor(message: string, data: ErrorData = {}, cause?: unknown) {
    super('LSA_IO', message, data, cause);
  }
}

/** A write to something that is read-only (a snapshot export, a --read-only server). */
export class ReadOnlyError extends LsaError {
  constructor(message: string, data: ErrorData = {}) {
    super('LSA_READ_ONLY', message, data);
  }
}

/** Not now: the request may succeed if repeated later (a snapshot while a remote-copy update
 * is in progress, without --wait). */
export class TryAgainError extends LsaError {
  constructor(message: string, data: ErrorData = {}) {
    super('LSA_TRY_AGAIN', message, data);
  }
}

/** The engine was closed, or poisoned by an earlier fatal I/O error. */
export class ClosedError extends LsaError {
  constructor(message: string, data: ErrorData = {}) {
    super('LSA_CLOSED', message, data);
  }
}

/** A peer sent bytes that break the protocol. */
export class ProtocolError extends LsaError {
  constructor(message: string, data: ErrorData = {}) {
    super('LSA_PROTOCOL', message, data);
  }
}

/** The one place where errors become process exit codes (sysexits.h values). */
export function exitCodeOf(err: unknown): number {
  if (!(err instanceof LsaError)) return 70; // EX_SOFTWARE: a bug
  switch (err.code) {
    case 'LSA_INVALID_ARGUMENT': return 64; // EX_USAGE
    case 'LSA_NOT_FOUND': return 66; // EX_NOINPUT
    case 'LSA_ALREADY_EXISTS': return 73; // EX_CANTCREAT
    case 'LSA_CORRUPTION': return 65; // EX_DATAERR
    case 'LSA_DATA_LOST': return 65;
    case 'LSA_OUT_OF_SPACE': return 73;
    case 'LSA_IN_USE': return 75; // EX_TEMPFAIL
    case 'LSA_TRY_AGAIN': return 75;
    case 'LSA_IO': return 74; // EX_IOERR
    case 'LSA_READ_ONLY': return 77; // EX_NOPERM
    case 'LSA_PROTOCOL': return 76; // EX_PROTOCOL
    case 'LSA_CONTROL': return 69; // EX_UNAVAILABLE
    default: return 70;
  }
}

/** Programmer invariants: always on, never used for untrusted input. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}
