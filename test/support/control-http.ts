// Requests to a control API as a test client makes them: with node:http, so that every header
// is exactly what the test says (a browser's Origin, a forged Host, a text/plain body, no
// token), and the token read from the primary's folder.

import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { CONTROL_TOKEN_FILE } from '../../src/io/control-token';

/** The control token the primary in `dir` checks (created by lsa init or the first serve). */
export function controlToken(dir: string): string {
  return fs.readFileSync(path.join(dir, CONTROL_TOKEN_FILE), 'utf8').trim();
}

export interface RawReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  json: Record<string, unknown> | null;
  text: string;
}

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}

/** One request on its own connection, headers exactly as given (Host included if set). */
export function rawRequest(port: number, r: RawRequest): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { connection: 'close', ...(r.headers ?? {}) };
    if (r.body !== undefined) headers['content-length'] = String(Buffer.byteLength(r.body));
    const req = http.request({ host: '127.0.0.1', port, method: r.method, path: r.path, headers, timeout: r.timeoutMs ?? 30_000, setHost: !('host' in headers) }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        let json: Record<string, unknown> | null = null;
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json, text });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${r.method} ${r.path} timed out`)));
    req.on('error', reject);
    req.end(r.body);
  });
}
