// What every control request must pass before anything looks at its path or body. The API
// changes volumes (a restore rolls one back), so it trusts neither the network nor the web
// pages open in the operator's browser:
//
//   check                                   refusal
//   Host is the listening address           403 LSA_FORBIDDEN (DNS rebinding: a page on
//     (as listened, or localhost/127.0.0.1/      evil.example resolved to 127.0.0.1 sends
//     [::1] for a loopback listener)             Host: evil.example)
//   no Origin header                        403 LSA_FORBIDDEN (browsers send it on cross-site
//                                               requests; the CLI never does)
//   Authorization: Bearer <control.token>   401 LSA_UNAUTHORIZED (compared in constant time)
//   a body is application/json              415 LSA_UNSUPPORTED_MEDIA_TYPE (a form or a
//                                               text/plain POST is what a page can send
//                                               without asking)

import type * as http from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import * as net from 'node:net';
import * as os from 'node:os';
import { ForbiddenError, UnauthorizedError, UnsupportedMediaTypeError } from '../errors';
import { isLoopbackHost } from '../util/loopback';

function hostHeader(host: string, port: number): string[] {
  const h = (host.includes(':') ? `[${host}]` : host).toLowerCase();
  return port === 80 ? [`${h}:${port}`, h] : [`${h}:${port}`];
}

/** The Host header values a client of this listener may send. */
export function allowedHosts(listenedHost: string, boundAddress: string, port: number): Set<string> {
  const names = new Set([listenedHost, boundAddress]);
  const wildcard = boundAddress === '0.0.0.0' || boundAddress === '::';
  if (isLoopbackHost(boundAddress) || wildcard) {
    names.add('localhost');
    names.add(net.isIPv6(boundAddress) ? '::1' : '127.0.0.1');
  }
  if (wildcard) {
    // listening on every address (--allow-remote): any of this machine's own names
    names.add(os.hostname());
    names.add('127.0.0.1');
    names.add('::1');
    for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) names.add(a.address);
  }
  const out = new Set<string>();
  for (const n of names) for (const h of hostHeader(n, port)) out.add(h);
  return out;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export class RequestGuard {
  private readonly tokenDigest: Buffer;

  constructor(token: string, private readonly hosts: Set<string>) {
    this.tokenDigest = digest(token.toLowerCase());
  }

  /** Throws the refusal for a request that may not go further. */
  check(req: http.IncomingMessage): void {
    const host = req.headers.host;
    if (host === undefined || !this.hosts.has(host.toLowerCase())) {
      throw new ForbiddenError(`Host "${host ?? ''}" is not this control API's address (${[...this.hosts][0]}); a request through another name is refused`, { host: host ?? null });
    }
    if (req.headers.origin !== undefined) {
      throw new ForbiddenError('requests with an Origin header (from a web page) are refused; use lsa status / lsa snapshot, or curl', { origin: req.headers.origin });
    }
    const auth = req.headers.authorization;
    const m = auth === undefined ? null : /^Bearer +(\S+) *$/i.exec(auth);
    // digests of equal length: the comparison takes the same time whatever was sent
    if (!m || !timingSafeEqual(digest(m[1].toLowerCase()), this.tokenDigest)) {
      throw new UnauthorizedError(`${auth === undefined ? 'no' : 'a wrong'} credential: send Authorization: Bearer <the primary's control.token> (lsa status --dir DIR reads it from DIR/control.token)`);
    }
    if (carriesBody(req)) {
      const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (type !== 'application/json') {
        throw new UnsupportedMediaTypeError(`a request body must be Content-Type: application/json; got "${req.headers['content-type'] ?? ''}"`);
      }
    }
  }
}

/** A request that has (or may have) a body: any method but GET and HEAD, or one that says so. */
function carriesBody(req: http.IncomingMessage): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return true;
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}
