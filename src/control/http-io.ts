// Reading a control request's JSON body (bounded) and writing JSON answers, errors included:
// an error answers `{error, code, ...data}` with the status of httpStatusOf.

import type * as http from 'node:http';
import { InvalidArgumentError, LsaError, httpStatusOf } from '../errors';

/** A request body larger than this is refused (every request is a few fields). */
export const BODY_BYTES_MAX = 64 * 1024;

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

export function sendError(res: http.ServerResponse, err: unknown): number {
  const status = httpStatusOf(err);
  const body = err instanceof LsaError ? { ...err.data, error: err.message, code: err.code } : { error: `internal error: ${(err as Error)?.message ?? String(err)}` };
  sendJson(res, status, body, status === 401 ? { 'www-authenticate': 'Bearer realm="lsa control"' } : {});
  return status;
}

export async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of req) {
    n += (chunk as Buffer).length;
    if (n > BODY_BYTES_MAX) throw new InvalidArgumentError(`request body over ${BODY_BYTES_MAX} bytes`);
    parts.push(chunk as Buffer);
  }
  if (n === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(Buffer.concat(parts).toString('utf8'));
  } catch {
    throw new InvalidArgumentError('the request body is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InvalidArgumentError('the request body is not a JSON object');
  return v as Record<string, unknown>;
}

/** The path's segments, percent-decoded; a malformed escape is the client's error (400). */
export function pathSegments(pathname: string): string[] {
  try {
    return pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    throw new InvalidArgumentError(`malformed percent-encoding in the path ${pathname}`);
  }
}
