// Worker processes for the crash campaign: the parent starts a Node script with an extra pipe
// (fd 3) on which the worker reports progress, one short line at a time, and can kill it with
// SIGKILL at any moment. The worker writes each line synchronously, so once a line is written
// it reaches the parent even if the worker dies on the next instruction.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IoError } from '../errors';

/** The fd of the report pipe in the worker. */
export const REPORT_FD = 3;
/** Bytes of the worker's stderr kept for diagnostics. */
const STDERR_KEPT_BYTES = 8192;

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface WorkerHandle {
  readonly pid: number;
  /** Called for every complete line, in order. */
  onLine(visit: (line: string) => void): void;
  kill(): void;
  readonly exited: Promise<WorkerExit>;
  stderrTail(): string;
}

export function startWorker(script: string, args: string[]): WorkerHandle {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  let visit: ((line: string) => void) | null = null;
  const early: string[] = [];
  let partial = '';
  let stderr = '';
  const report = child.stdio[REPORT_FD] as NodeJS.ReadableStream;
  report.setEncoding('utf8');
  report.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      if (visit) visit(line);
      else early.push(line);
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEPT_BYTES);
  });
  // 'close' waits for the pipes to drain, so every line written before death has been seen
  const exited = new Promise<WorkerExit>((resolve, reject) => {
    child.on('error', (err) => reject(new IoError(`cannot start ${script}: ${err.message}`, { script }, err)));
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  return {
    pid: child.pid ?? -1,
    onLine(v) {
      visit = v;
      for (const line of early.splice(0, early.length)) v(line);
    },
    kill() {
      child.kill('SIGKILL');
    },
    exited,
    stderrTail: () => stderr,
  };
}

/** In the worker: writes one line to the report pipe before doing anything else. */
export function reportLine(line: string): void {
  const buf = Buffer.from(line + '\n', 'utf8');
  for (let done = 0; done < buf.length;) {
    try {
      done += fs.writeSync(REPORT_FD, buf, done, buf.length - done);
    } catch (err) {
      // the pipe may be non-blocking: wait a moment and try again
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

/** A fresh folder under the OS temp dir (or under `parent`). */
export function makeScratchDir(prefix: string, parent?: string): string {
  const base = parent ?? os.tmpdir();
  fs.mkdirSync(base, { recursive: true });
  return fs.mkdtempSync(path.join(base, prefix));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
