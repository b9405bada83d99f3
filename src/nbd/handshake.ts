// Fixed newstyle option haggling, from the greeting to the transmission phase (or the end).
// Each option gets its reply here; the connection only sees the outcome: a Session to serve,
// null after a soft disconnect (NBD_OPT_ABORT), or a thrown ProtocolError/ReadEndedError when
// the protocol wants a hard disconnect (bad magic, unknown client flags, an EXPORT_NAME that
// cannot be satisfied, too many options, a client that stalls).

import { ProtocolError } from '../errors';
import {
  CLIENT_FLAGS_KNOWN, FLAG_C_NO_ZEROES, IHAVEOPT, INFO_DESCRIPTION, INFO_NAME,
  META_BASE_ALLOCATION, META_BASE_ALLOCATION_ID, OPTION_BYTES_MAX, OPTION_HEADER_BYTES, OPTIONS_PER_CONNECTION_MAX,
  OPT_ABORT, OPT_EXPORT_NAME, OPT_GO, OPT_INFO, OPT_LIST, OPT_LIST_META_CONTEXT, OPT_SET_META_CONTEXT,
  OPT_STRUCTURED_REPLY, PAYLOAD_BYTES_MAX, REP_ACK, REP_ERR_INVALID, REP_ERR_SHUTDOWN, REP_ERR_TOO_BIG,
  REP_ERR_UNKNOWN, REP_ERR_UNSUP, REP_INFO, REP_META_CONTEXT, REP_SERVER, STRING_BYTES_MAX,
} from './constants';
import { transmissionFlags, type ExportTable, type NbdExport } from './exports';
import { isRefusal, parseInfoRequest, parseMetaRequest } from './option-data';
import { ReadEndedError } from './socket-reader';
import * as wire from './wire';

export interface HandshakeIo {
  read(bytes: number, timeoutMs: number): Promise<Buffer>;
  skip(bytes: number, timeoutMs: number): Promise<void>;
  write(buf: Buffer): void;
}

export interface HandshakeContext {
  exports: ExportTable;
  timeoutMs: number;
  isStopping(): boolean;
  /** A refused option (logged, rate-limited by the connection). */
  refused(option: number, reply: number, message: string): void;
}

export interface Session {
  exp: NbdExport;
  structured: boolean;
  /** base:allocation selected for this export: BLOCK_STATUS allowed. */
  baseAllocation: boolean;
  flags: number;
  /** How the client entered transmission (for the log). */
  via: 'go' | 'export-name';
}

interface Haggle {
  structured: boolean;
  /** The volume base:allocation was selected for, if any. */
  metaVolume: string | null;
}

const OPTION_NAMES: Record<number, string> = {
  1: 'EXPORT_NAME', 2: 'ABORT', 3: 'LIST', 5: 'STARTTLS', 6: 'INFO', 7: 'GO', 8: 'STRUCTURED_REPLY',
  9: 'LIST_META_CONTEXT', 10: 'SET_META_CONTEXT', 11: 'EXTENDED_HEADERS',
};

export function optionName(option: number): string {
  return OPTION_NAMES[option] ?? `option ${option}`;
}

export async function negotiate(io: HandshakeIo, ctx: HandshakeContext): Promise<Session | null> {
  const deadline = Date.now() + ctx.timeoutMs;
  const left = (): number => {
    const ms = deadline - Date.now();
    if (ms <= 0) throw new ReadEndedError('timeout', `option haggling took longer than ${ctx.timeoutMs} ms`);
    return ms;
  };
  io.write(wire.greeting());
  const clientFlags = (await io.read(4, left())).readUInt32BE(0);
  if ((clientFlags & ~CLIENT_FLAGS_KNOWN) !== 0) {
    throw new ProtocolError(`unknown client flags 0x${clientFlags.toString(16)}: closing, as the protocol requires`);
  }
  const noZeroes = (clientFlags & FLAG_C_NO_ZEROES) !== 0;
  const h: Haggle = { structured: false, metaVolume: null };
  const refuse = (option: number, reply: number, message: string): void => {
    ctx.refused(option, reply, message);
    io.write(wire.optionReply(option, reply, Buffer.from(message, 'utf8')));
  };

  for (let n = 0; n < OPTIONS_PER_CONNECTION_MAX; n++) {
    const head = await io.read(OPTION_HEADER_BYTES, left());
    if (head.readBigUInt64BE(0) !== IHAVEOPT) throw new ProtocolError('bad option magic: closing');
    const option = head.readUInt32BE(8);
    const length = head.readUInt32BE(12);
    if (option === OPT_EXPORT_NAME && length > STRING_BYTES_MAX) {
      throw new ProtocolError(`EXPORT_NAME with a ${length}-byte name cannot be answered with an error: closing`);
    }
    if (length > OPTION_BYTES_MAX) {
      await io.skip(length, left());
      refuse(option, REP_ERR_TOO_BIG, `${optionName(option)}: ${length} bytes of option data; at most ${OPTION_BYTES_MAX} allowed`);
      continue;
    }
    const data = length > 0 ? await io.read(length, left()) : Buffer.alloc(0);
    if (ctx.isStopping() && option !== OPT_ABORT) {
      if (option === OPT_EXPORT_NAME) throw new ProtocolError('the server is shutting down');
      refuse(option, REP_ERR_SHUTDOWN, 'the server is shutting down');
      continue;
    }
    switch (option) {
      case OPT_EXPORT_NAME: {
        const exp = ctx.exports.resolve(data.toString('utf8'));
        if (!exp || data.includes(0)) throw new ProtocolError(`EXPORT_NAME "${printable(data)}": no such export; closing, as the protocol requires`);
        const session = sessionFor(exp, h, 'export-name');
        io.write(wire.exportNameReply(exp.volume.sizeBytes, session.flags, noZeroes));
        return session;
      }
      case OPT_ABORT:
        io.write(wire.optionReply(option, REP_ACK));
        return null;
      case OPT_LIST: {
        if (length !== 0) {
          refuse(option, REP_ERR_INVALID, 'LIST takes no data');
          break;
        }
        for (const e of ctx.exports.list()) io.write(wire.optionReply(option, REP_SERVER, wire.serverEntry(e.name, e.description)));
        io.write(wire.optionReply(option, REP_ACK));
        break;
      }
      case OPT_INFO:
      case OPT_GO: {
        const req = parseInfoRequest(data);
        if (isRefusal(req)) {
          refuse(option, req.reply, `${optionName(option)}: ${req.message}`);
          break;
        }
        const exp = ctx.exports.resolve(req.name);
        if (!exp) {
          refuse(option, REP_ERR_UNKNOWN, `no export "${req.name}"; NBD_OPT_LIST shows the exports`);
          break;
        }
        const session = sessionFor(exp, h, 'go');
        io.write(wire.optionReply(option, REP_INFO, wire.infoExport(exp.volume.sizeBytes, session.flags)));
        io.write(wire.optionReply(option, REP_INFO, wire.infoBlockSize(1, exp.volume.trackBytes, PAYLOAD_BYTES_MAX)));
        if (req.infos.includes(INFO_NAME)) io.write(wire.optionReply(option, REP_INFO, wire.infoText(INFO_NAME, exp.name)));
        if (req.infos.includes(INFO_DESCRIPTION)) io.write(wire.optionReply(option, REP_INFO, wire.infoText(INFO_DESCRIPTION, exp.description)));
        io.write(wire.optionReply(option, REP_ACK));
        if (option === OPT_GO) return session;
        break;
      }
      case OPT_STRUCTURED_REPLY:
        if (length !== 0) {
          refuse(option, REP_ERR_INVALID, 'STRUCTURED_REPLY takes no data');
          break;
        }
        h.structured = true;
        io.write(wire.optionReply(option, REP_ACK));
        break;
      case OPT_LIST_META_CONTEXT:
      case OPT_SET_META_CONTEXT:
        metaContextOption(io, ctx, h, option, data, refuse);
        break;
      default:
        refuse(option, REP_ERR_UNSUP, `${optionName(option)} is not supported by this server`);
    }
  }
  throw new ProtocolError(`more than ${OPTIONS_PER_CONNECTION_MAX} options without choosing an export: closing`);
}

function metaContextOption(io: HandshakeIo, ctx: HandshakeContext, h: Haggle, option: number, data: Buffer, refuse: (o: number, r: number, m: string) => void): void {
  const set = option === OPT_SET_META_CONTEXT;
  if (set) h.metaVolume = null; // a SET replaces the selection, even when it fails
  if (!h.structured) {
    refuse(option, REP_ERR_INVALID, `${optionName(option)} needs STRUCTURED_REPLY first`);
    return;
  }
  const req = parseMetaRequest(data);
  if (isRefusal(req)) {
    refuse(option, req.reply, `${optionName(option)}: ${req.message}`);
    return;
  }
  const exp = ctx.exports.resolve(req.name);
  if (!exp) {
    refuse(option, REP_ERR_UNKNOWN, `no export "${req.name}"`);
    return;
  }
  if (set) {
    // selecting needs the full context name
    if (req.queries.includes(META_BASE_ALLOCATION)) {
      h.metaVolume = exp.name;
      io.write(wire.optionReply(option, REP_META_CONTEXT, wire.metaContext(META_BASE_ALLOCATION_ID, META_BASE_ALLOCATION)));
    }
  } else {
    // listing: no query lists everything; "base:" lists the namespace
    const listed = req.queries.length === 0 || req.queries.some((q) => q === 'base:' || q === META_BASE_ALLOCATION);
    if (listed) io.write(wire.optionReply(option, REP_META_CONTEXT, wire.metaContext(0, META_BASE_ALLOCATION)));
  }
  io.write(wire.optionReply(option, REP_ACK));
}

function sessionFor(exp: NbdExport, h: Haggle, via: Session['via']): Session {
  return {
    exp,
    structured: h.structured,
    baseAllocation: h.structured && h.metaVolume === exp.name,
    flags: transmissionFlags(exp, h.structured),
    via,
  };
}

/** Client text for a log line: control bytes escaped, cut short. */
export function printable(bytes: Buffer): string {
  return bytes.subarray(0, 64).toString('latin1').replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
