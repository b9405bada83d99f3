// The one place where errors become NBD errno values. The edge (request.ts) rejects bad
// requests with the project's error classes and, where the protocol asks for a particular
// errno, names it in `data.nbd`; everything the engine throws comes through here too.
//
// | error                                     | errno      |
// | ----------------------------------------- | ---------- |
// | ReadOnlyError                             | EPERM      |
// | OutOfSpaceError                           | ENOSPC     |
// | InvalidArgumentError, data.nbd 'too-large'| EOVERFLOW  |
// | InvalidArgumentError, data.nbd 'past-end-write' | ENOSPC |
// | InvalidArgumentError, ProtocolError       | EINVAL     |
// | ClosedError, data.nbd 'shutdown'          | ESHUTDOWN  |
// | IoError whose cause is ENOSPC/EDQUOT/EFBIG| ENOSPC     |
// | anything else (I/O, corruption, closed)   | EIO        |

import { ClosedError, InvalidArgumentError, IoError, OutOfSpaceError, ProtocolError, ReadOnlyError } from '../errors';
import { NBD_EINVAL, NBD_EIO, NBD_ENOSPC, NBD_EOVERFLOW, NBD_EPERM, NBD_ESHUTDOWN } from './constants';

/** What `data.nbd` of an edge error may say. */
export type EdgeErrno = 'too-large' | 'past-end-write' | 'shutdown';

const HOST_NO_SPACE = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

export function nbdErrnoOf(err: unknown): number {
  if (err instanceof ReadOnlyError) return NBD_EPERM;
  if (err instanceof OutOfSpaceError) return NBD_ENOSPC;
  if (err instanceof InvalidArgumentError) {
    if (err.data.nbd === 'too-large') return NBD_EOVERFLOW;
    if (err.data.nbd === 'past-end-write') return NBD_ENOSPC;
    return NBD_EINVAL;
  }
  if (err instanceof ProtocolError) return NBD_EINVAL;
  if (err instanceof ClosedError && err.data.nbd === 'shutdown') return NBD_ESHUTDOWN;
  if (err instanceof IoError) {
    const code = (err.cause as NodeJS.ErrnoException | undefined)?.code;
    if (code && HOST_NO_SPACE.has(code)) return NBD_ENOSPC;
  }
  return NBD_EIO;
}
