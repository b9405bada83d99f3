// One error taxonomy for the whole project. Every error that crosses a layer boundary is one
// of these classes, with a stable `code` (documented in docs/ERRORS.md), an optional `cause`
// and structured `data`. Mapping to CLI exit codes lives in `exitCodeOf` below and nowhere
// else, mapping to HTTP status codes (the control API) in `httpStatusOf` beside it, and mapping
// to NBD errno values in the NBD front end, in one function. A client of the control API gets
// the error's `code` and rebuilds the same class with `errorFromCode`.

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

/** A peer could not prove it holds the shared key, or the two ends' security settings
 * differ (a TLS-PSK handshake that failed, --replica-tls on at one end and off at the other). */
export class AuthenticationError extends LsaError {
  constructor(message: string, data: ErrorData = {}) {
    super('LSA_AUTH', message, data);
  }
}

/** A request to the control API without a valid credential (no token, or the wrong one). */
export class UnauthorizedError extends LsaError {
  constructor(message: string, data: ErrorData = {}) {
    super('LSA_UNAUTHORIZED', message, data);
  }
}

/** A request refused whoever sends it: one a web page could have forged (an Origin header,
 * a Host that is not the listening address). */
export class ForbiddenError extends LsaError {
  constructor(message: string, data: ErrorData = {}) {
    super('LSA_FORBIDDEN', message, data);
  }
}

/** A request body that is not JSON (Content-Type other than application/json). */
export class UnsupportedMediaTypeError extends LsaError {
  constructor(message: string, data: ErrorData = {}) {
    super('LSA_UNSUPPORTED_MEDIA_TYPE', message, data);
  }
}

/** A configured limit is reached (snapshots per volume): make room first; retrying alone
 * does not help. */
export class LimitReachedError extends LsaError {
  constructor(message: string, data: ErrorData = {}) {
    super('LSA_LIMIT_REACHED', message, data);
  }
}

/** Something waited for did not happen in time (the pair reaching duplex, the secondary's
 * completion). */
export class TimeoutError extends LsaError {
  constructor(message: string, data: ErrorData = {}) {
    super('LSA_TIMEOUT', message, data);
  }
}

/** A service the request needs is not there: the primary has no secondary, or the secondary
 * is not connected. */
export class UnavailableError extends LsaError {
  constructor(message: string, data: ErrorData = {}) {
    super('LSA_UNAVAILABLE', message, data);
  }
}

/** The other subsystem failed a relayed request for a reason it did not classify. */
export class RemoteError extends LsaError {
  constructor(message: string, data: ErrorData = {}) {
    super('LSA_REMOTE', message, data);
  }
}

/** The control API of the primary cannot be reached, or answered something that is not one of
 * its errors (client side only). */
export class ControlError extends LsaError {
  constructor(message: string, data: ErrorData = {}) {
    super('LSA_CONTROL', message, data);
  }
}

type ErrorClass = new (message: string, data?: ErrorData) => LsaError;

/** Classes a code names, for rebuilding an error that crossed a process boundary. */
const CLASS_OF_CODE: Record<string, ErrorClass> = {
  LSA_INVALID_ARGUMENT: InvalidArgumentError,
  LSA_NOT_FOUND: NotFoundError,
  LSA_ALREADY_EXISTS: AlreadyExistsError,
  LSA_CORRUPTION: CorruptionError,
  LSA_DATA_LOST: DataLostError,
  LSA_OUT_OF_SPACE: OutOfSpaceError,
  LSA_IN_USE: InUseError,
  LSA_IO: IoError,
  LSA_READ_ONLY: ReadOnlyError,
  LSA_TRY_AGAIN: TryAgainError,
  LSA_CLOSED: ClosedError,
  LSA_PROTOCOL: ProtocolError,
  LSA_AUTH: AuthenticationError,
  LSA_UNAUTHORIZED: UnauthorizedError,
  LSA_FORBIDDEN: ForbiddenError,
  LSA_UNSUPPORTED_MEDIA_TYPE: UnsupportedMediaTypeError,
  LSA_LIMIT_REACHED: LimitReachedError,
  LSA_TIMEOUT: TimeoutError,
  LSA_UNAVAILABLE: UnavailableError,
  LSA_REMOTE: RemoteError,
  LSA_CONTROL: ControlError,
};

/** Every code of the taxonomy (docs/ERRORS.md lists each). */
export function errorCodes(): string[] {
  return Object.keys(CLASS_OF_CODE);
}

/** The typed error that `code` names (a code from another process: the control API's answer,
 * the secondary's completion); an unknown code gives `fallback`'s class. */
export function errorFromCode(code: unknown, message: string, data: ErrorData = {}, fallback: ErrorClass = ControlError): LsaError {
  const cls = typeof code === 'string' && Object.hasOwn(CLASS_OF_CODE, code) ? CLASS_OF_CODE[code] : fallback;
  return new cls(message, data);
}

/** The one place where errors become HTTP status codes (the control API). */
export function httpStatusOf(err: unknown): number {
  if (!(err instanceof LsaError)) return 500;
  switch (err.code) {
    case 'LSA_INVALID_ARGUMENT': return 400;
    case 'LSA_UNAUTHORIZED': return 401;
    case 'LSA_FORBIDDEN': return 403;
    case 'LSA_READ_ONLY': return 403;
    case 'LSA_NOT_FOUND': return 404;
    case 'LSA_ALREADY_EXISTS': return 409;
    case 'LSA_IN_USE': return 409;
    case 'LSA_TRY_AGAIN': return 409;
    case 'LSA_UNSUPPORTED_MEDIA_TYPE': return 415;
    case 'LSA_LIMIT_REACHED': return 429;
    case 'LSA_CORRUPTION': return 500;
    case 'LSA_DATA_LOST': return 500;
    case 'LSA_IO': return 500;
    case 'LSA_PROTOCOL': return 502;
    case 'LSA_AUTH': return 502;
    case 'LSA_REMOTE': return 502;
    case 'LSA_CONTROL': return 502;
    case 'LSA_CLOSED': return 503;
    case 'LSA_UNAVAILABLE': return 503;
    case 'LSA_TIMEOUT': return 504;
    case 'LSA_OUT_OF_SPACE': return 507;
    default: return 500;
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
    case 'LSA_AUTH': return 77; // EX_NOPERM
    case 'LSA_CONTROL': return 69; // EX_UNAVAILABLE
    case 'LSA_UNAVAILABLE': return 69;
    case 'LSA_REMOTE': return 69;
    case 'LSA_TIMEOUT': return 75;
    case 'LSA_UNAUTHORIZED': return 77;
    case 'LSA_FORBIDDEN': return 77;
    case 'LSA_UNSUPPORTED_MEDIA_TYPE': return 64;
    case 'LSA_LIMIT_REACHED': return 73;
    default: return 70;
  }
}

/** Programmer invariants: always on, never used for untrusted input. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}
