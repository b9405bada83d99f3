// Runs a compiled script of this suite in a fresh Node process, so that what it measures (RSS,
// open time) is not polluted by the harness. The child prints one JSON object as its last line.

import { spawn } from 'node:child_process';
import * as path from 'node:path';

export const CHILD_TIMEOUT_MS = 10 * 60 * 1000;

/** Path of a compiled script in native-free-bench/children/ (e.g. "open-array"). */
export function childScript(name: string): string {
  return path.join(__dirname, '..', 'children', `${name}.js`);
}

export function runNodeChild(script: string, args: string[], nodeFlags: string[] = []): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: CHILD_TIMEOUT_MS });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0) {
        reject(new Error(`${path.basename(script)} ${args.join(' ')} exited with ${signal ?? code}: ${err.trim() || out.trim()}`));
        return;
      }
      const last = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as Record<string, unknown>);
      } catch {
        reject(new Error(`${path.basename(script)} printed no JSON result: ${out.trim()} ${err.trim()}`));
      }
    });
  });
}
