// `lsa serve` as a child process on a free loopback port (--nbd 127.0.0.1:0; the port is read
// from the "listening" log line), plus small helpers to run external tools with a time limit.

import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import * as path from 'node:path';
import type { Geometry } from '../../src/array/geometry';
import { createArray } from '../../src/lsa/open-array';
import { createVolume } from '../../src/lsa/volumes';

export const MAIN_JS = path.resolve(__dirname, '../../src/cli/main.js');

/** Creates an array with the given volumes (name, bytes) and closes it. */
export async function makeArray(dir: string, volumes: [string, number][], geometry: Partial<Geometry> = {}): Promise<void> {
  const engine = await createArray(dir, { geometry, volume: null });
  try {
    for (const [name, bytes] of volumes) await createVolume(engine, name, bytes, 'none');
  } finally {
    await engine.close();
  }
}

export class ServerProcess {
  private output = '';
  port = 0;

  private constructor(readonly child: ChildProcess) {
    child.stderr!.on('data', (d: Buffer) => {
      this.output += d.toString();
      if (this.output.length > 1_000_000) this.output = this.output.slice(-500_000);
    });
    child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  static async start(args: string[], command = 'serve', cwd?: string): Promise<ServerProcess> {
    const child = spawn(process.execPath, [MAIN_JS, command, '--nbd', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd });
    const sp = new ServerProcess(child);
    await sp.waitFor(/listening\b.*?\bport"?[=:](\d+)/, 30_000).then((m) => (sp.port = Number(m[1])));
    return sp;
  }

  uri(name = 'vol0'): string {
    return `nbd://127.0.0.1:${this.port}/${name}`;
  }

  get log(): string {
    return this.output;
  }

  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const m = re.exec(this.output);
        if (m) {
          cleanup();
          resolve(m);
          return true;
        }
        return false;
      };
      const onData = (): void => void check();
      const onExit = (code: number | null): void => {
        cleanup();
        reject(new Error(`server exited (${code}) before ${re}; its output:\n${this.output}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no ${re} within ${timeoutMs} ms; server output:\n${this.output}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.child.stderr!.off('data', onData);
        this.child.stdout!.off('data', onData);
        this.child.off('exit', onExit);
      };
      this.child.stderr!.on('data', onData);
      this.child.stdout!.on('data', onData);
      this.child.once('exit', onExit);
      check();
    });
  }

  /** Sends a signal and waits for the exit; returns the exit code (or the signal name). */
  stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<number | string> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve(this.child.exitCode ?? this.child.signalCode!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(new Error(`server did not exit within ${timeoutMs} ms after ${signal}; output:\n${this.output}`));
      }, timeoutMs);
      this.child.once('exit', (code, sig) => {
        clearTimeout(timer);
        resolve(code ?? sig ?? -1);
      });
      this.child.kill(signal);
    });
  }
}

/** Runs a program, failing with its output when it exits non-zero. */
export function run(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string; allowFail?: boolean; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: opts.timeoutMs ?? 120_000, input: opts.input, env: opts.env ?? process.env, maxBuffer: 64 * 1024 * 1024 });
  if (!opts.allowFail && (r.status !== 0 || r.error)) {
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}${r.signal ? `, ${r.signal}` : ''}${r.error ? `, ${r.error.message}` : ''}):\n${r.stdout}\n${r.stderr}`);
  }
  return r;
}

/** Like run(), without blocking the event loop (for tools that talk to an in-process server). */
export function runAsync(cmd: string, args: string[], timeoutMs = 120_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} timed out after ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
