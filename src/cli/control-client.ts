// Talking to a running primary's control API (lsa status, lsa snapshot create).

import * as http from 'node:http';
import { InvalidArgumentError, LsaError } from '../errors';
import { DEFAULT_CONTROL_PORT } from '../control/http-api';
import type { OptionSpec } from './command';

export const CONTROL_OPTION: OptionSpec = { type: 'string', default: `127.0.0.1:${DEFAULT_CONTROL_PORT}`, description: 'the primary\'s control API', valueName: 'HOST:PORT' };

/** The server is not there, or answered with an error. */
export class ControlError extends LsaError {
  constructor(message: string, readonly status: number, data: Record<string, unknown> = {}) {
    super('LSA_CONTROL', message, { status, ...data });
  }
}

function target(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new InvalidArgumentError(`--control: cannot read "${text}" as HOST:PORT`);
  return { host: m[1] ?? m[2], port };
}

export function controlRequest(address: string, method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 60_000): Promise<{ status: number; json: Record<string, unknown> }> {
  const { host, port } = target(address);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path, timeout: timeoutMs, headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {} }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, unknown> });
        } catch {
          reject(new ControlError(`the control API at ${address} answered something that is not JSON`, res.statusCode ?? 0));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => reject(new ControlError(`cannot reach the control API at ${address} (${err.message}); is a primary running (lsa serve --secondary ...)?`, 0)));
    req.end(payload);
  });
}
