// Talking to a running primary's control API (lsa status, lsa snapshot create and restore):
// the address from --control, the token from --token-file or DIR/control.token (--dir, by
// default ./volumes/primary, so the commands work from the folder `npm start` ran in). An
// answer with an error becomes the same typed error the server had (its `code`).

import * as http from 'node:http';
import { ControlError, InvalidArgumentError, errorFromCode } from '../errors';
import { DEFAULT_CONTROL_PORT } from '../control/http-api';
import { controlTokenPath, readControlToken } from '../io/control-token';
import { DEFAULT_DIR, optStr, str, type CommandContext, type OptionSpec } from './command';

export const CONTROL_OPTIONS: Record<string, OptionSpec> = {
  control: { type: 'string', default: `127.0.0.1:${DEFAULT_CONTROL_PORT}`, description: 'the primary\'s control API', valueName: 'HOST:PORT' },
  dir: { type: 'string', default: DEFAULT_DIR, description: 'the primary\'s array folder: its control.token is the credential sent', valueName: 'DIR' },
  'token-file': { type: 'string', description: 'read the control token from this file instead of DIR/control.token', valueName: 'FILE' },
};

export interface ControlTarget {
  address: string;
  token: string;
}

/** Where to send and what credential: read (and checked) before anything is sent. */
export function controlTarget(ctx: CommandContext): ControlTarget {
  const address = str(ctx, 'control');
  target(address);
  const file = optStr(ctx, 'token-file') ?? controlTokenPath(str(ctx, 'dir'));
  return { address, token: readControlToken(file) };
}

function target(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new InvalidArgumentError(`--control: cannot read "${text}" as HOST:PORT`);
  return { host: m[1] ?? m[2], port };
}

export interface ControlCall {
  method: 'GET' | 'POST';
  path: string;
  /** Prefix of an error's message: "snapshot of vol0 not taken". */
  what: string;
  body?: unknown;
  timeoutMs?: number;
  /** Said after an error's message, by its code. */
  hints?: Record<string, string>;
}

/** One request; resolves with the status and JSON of a 2xx answer, throws the typed error of
 * any other. */
export function controlRequest(to: ControlTarget, call: ControlCall): Promise<{ status: number; json: Record<string, unknown> }> {
  const { host, port } = target(to.address);
  const timeoutMs = call.timeoutMs ?? 60_000;
  const payload = call.body === undefined ? undefined : Buffer.from(JSON.stringify(call.body));
  const headers: Record<string, string | number> = { authorization: `Bearer ${to.token}`, accept: 'application/json' };
  if (payload) Object.assign(headers, { 'content-type': 'application/json', 'content-length': payload.length });
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method: call.method, path: call.path, timeout: timeoutMs, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        let json: Record<string, unknown>;
        try {
          json = JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, unknown>;
        } catch {
          reject(new ControlError(`the control API at ${to.address} answered something that is not JSON (HTTP ${status})`, { status }));
          return;
        }
        if (status >= 200 && status < 300) resolve({ status, json });
        else {
          const { error, code, ...data } = json;
          const hint = typeof code === 'string' && call.hints?.[code] ? ` (${call.hints[code]})` : '';
          reject(errorFromCode(code, `${call.what}: ${String(error ?? `HTTP ${status}`)}${hint}`, { ...data, status }));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => reject(new ControlError(`cannot reach the control API at ${to.address} (${err.message}); is a primary running (lsa serve --secondary ...)?`, { status: 0 })));
    req.end(payload);
  });
}
