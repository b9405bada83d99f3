// The interior of the transmission phase: a checked Request runs against the export's Volume
// and yields the reply to send. Inputs are trusted here (request.ts checked them); errors
// thrown are the engine's and become errno replies in the connection.

import {
  BLOCK_STATUS_EXTENTS_MAX, BLOCK_STATUS_SCAN_BYTES_MAX, CMD_BLOCK_STATUS, CMD_FLAG_FUA, CMD_FLAG_NO_HOLE,
  CMD_FLAG_REQ_ONE, CMD_FLUSH, CMD_READ, CMD_TRIM, CMD_WRITE, CMD_WRITE_ZEROES, META_BASE_ALLOCATION_ID,
  STATE_HOLE, STATE_ZERO,
} from './constants';
import { assert } from '../errors';
import type { Session } from './handshake';
import type { Request } from './request';
import * as wire from './wire';

export async function execute(req: Request, payload: Buffer | null, session: Session): Promise<Buffer[]> {
  const v = session.exp.volume;
  const fua = (req.flags & CMD_FLAG_FUA) !== 0;
  switch (req.type) {
    case CMD_READ: {
      const data = await v.read(req.offset, req.length);
      const head = session.structured ? wire.readChunkHeader(req.handle, req.offset, data.length) : wire.simpleReply(req.handle, 0);
      return [head, data];
    }
    case CMD_WRITE:
      assert(payload !== null && payload.length === req.length, 'WRITE payload read in full');
      await v.write(req.offset, payload, { fua });
      return [wire.simpleReply(req.handle, 0)];
    case CMD_FLUSH:
      await v.flush();
      return [wire.simpleReply(req.handle, 0)];
    case CMD_TRIM:
      await v.trim(req.offset, req.length, { fua });
      return [wire.simpleReply(req.handle, 0)];
    case CMD_WRITE_ZEROES:
      await v.writeZeroes(req.offset, req.length, { fua, noHole: (req.flags & CMD_FLAG_NO_HOLE) !== 0 });
      return [wire.simpleReply(req.handle, 0)];
    case CMD_BLOCK_STATUS: {
      const scan = Math.min(req.length, BLOCK_STATUS_SCAN_BYTES_MAX);
      const extents = v.blockStatus(req.offset, scan);
      const limit = (req.flags & CMD_FLAG_REQ_ONE) !== 0 ? 1 : BLOCK_STATUS_EXTENTS_MAX;
      const descriptors = extents.slice(0, limit).map((e) => ({ length: e.length, flags: (e.hole ? STATE_HOLE : 0) | (e.zero ? STATE_ZERO : 0) }));
      return [wire.blockStatusChunk(req.handle, META_BASE_ALLOCATION_ID, descriptors)];
    }
    default:
      throw new Error(`assertion failed: command ${req.type} reached execute unchecked`);
  }
}

/** The reply for a request that failed with `errno`. */
export function errorReply(handle: Buffer, errno: number, structured: boolean, message: string): Buffer[] {
  return [structured ? wire.errorChunk(handle, errno, message) : wire.simpleReply(handle, errno)];
}
