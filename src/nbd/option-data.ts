// Parsers for the data of NBD_OPT_INFO/GO and NBD_OPT_LIST/SET_META_CONTEXT. Client bytes
// are untrusted: every length is checked against what is left, strings must be valid UTF-8
// without NUL and at most STRING_BYTES_MAX long. A parser returns its result or a refusal
// naming the option reply error to send.
//
// INFO / GO data:               u32 name length | name | u16 request count | u16 info type * n
// LIST / SET_META_CONTEXT data: u32 name length | name | u32 query count |
//                               (u32 query length | query) * n

import { META_QUERIES_MAX, REP_ERR_INVALID, REP_ERR_TOO_BIG, STRING_BYTES_MAX } from './constants';

export interface Refusal {
  reply: number;
  message: string;
}

export interface InfoRequest {
  name: string;
  infos: number[];
}

export interface MetaRequest {
  name: string;
  queries: string[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeString(bytes: Buffer, what: string): string | Refusal {
  if (bytes.length > STRING_BYTES_MAX) return { reply: REP_ERR_TOO_BIG, message: `${what} is ${bytes.length} bytes; at most ${STRING_BYTES_MAX} allowed` };
  if (bytes.includes(0)) return { reply: REP_ERR_INVALID, message: `${what} contains a NUL byte` };
  try {
    return utf8.decode(bytes);
  } catch {
    return { reply: REP_ERR_INVALID, message: `${what} is not valid UTF-8` };
  }
}

export function isRefusal(x: unknown): x is Refusal {
  return typeof x === 'object' && x !== null && 'reply' in x;
}

/** Reads `u32 length | string` at `at`; returns the string and where the next field starts. */
function lengthPrefixed(data: Buffer, at: number, what: string): { text: string; next: number } | Refusal {
  if (data.length - at < 4) return { reply: REP_ERR_INVALID, message: `option data ends inside the length of the ${what}` };
  const len = data.readUInt32BE(at);
  if (len > data.length - at - 4) return { reply: REP_ERR_INVALID, message: `${what} length ${len} runs past the option data` };
  const text = decodeString(data.subarray(at + 4, at + 4 + len), what);
  if (isRefusal(text)) return text;
  return { text, next: at + 4 + len };
}

export function parseInfoRequest(data: Buffer): InfoRequest | Refusal {
  const name = lengthPrefixed(data, 0, 'export name');
  if (isRefusal(name)) return name;
  let at = name.next;
  if (data.length - at < 2) return { reply: REP_ERR_INVALID, message: 'option data ends before the information request count' };
  const count = data.readUInt16BE(at);
  at += 2;
  if (data.length - at !== 2 * count) {
    return { reply: REP_ERR_INVALID, message: `${count} information requests need ${2 * count} bytes; ${data.length - at} were sent` };
  }
  const infos: number[] = [];
  for (let i = 0; i < count; i++) infos.push(data.readUInt16BE(at + 2 * i));
  return { name: name.text, infos };
}

export function parseMetaRequest(data: Buffer): MetaRequest | Refusal {
  const name = lengthPrefixed(data, 0, 'export name');
  if (isRefusal(name)) return name;
  let at = name.next;
  if (data.length - at < 4) return { reply: REP_ERR_INVALID, message: 'option data ends before the query count' };
  const count = data.readUInt32BE(at);
  at += 4;
  if (count > META_QUERIES_MAX) return { reply: REP_ERR_TOO_BIG, message: `${count} queries; at most ${META_QUERIES_MAX} allowed` };
  const queries: string[] = [];
  for (let i = 0; i < count; i++) {
    const q = lengthPrefixed(data, at, 'query');
    if (isRefusal(q)) return q;
    queries.push(q.text);
    at = q.next;
  }
  if (at !== data.length) return { reply: REP_ERR_INVALID, message: `${data.length - at} bytes follow the last query` };
  return { name: name.text, queries };
}
