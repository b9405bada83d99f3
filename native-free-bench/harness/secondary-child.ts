// A secondary as a real `lsa serve --replica-listen` child process on a free loopback port,
// for the scenarios that measure a pair (replication, snapshot). Its JSON log says which port
// it took.

import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

const MAIN_JS = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');
const START_TIMEOUT_MS = 60_000;

export interface SecondaryChild {
  child: ChildProcess;
  port: number;
  exited: Promise<void>;
}

/** `extraArgs` go to `lsa serve` (e.g. `--replica-tls off`). */
export function startSecondaryChild(dir: string, extraArgs: string[] = []): Promise<SecondaryChild> {
  const child = spawn(process.execPath, [MAIN_JS, 'serve', '--dir', dir, '--replica-listen', '127.0.0.1:0', '--nbd', '127.0.0.1:0', '--log-format', 'json', ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the secondary did not listen within ${START_TIMEOUT_MS} ms: ${log.slice(-2000)}`)), START_TIMEOUT_MS);
    child.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.length > 100_000) log = log.slice(-50_000);
      const m = /"msg":"replica link listening","address":"[^"]*:(\d+)"/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), exited });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the secondary exited with ${code}: ${log.slice(-2000)}`));
    });
  });
}
