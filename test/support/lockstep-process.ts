// The lock-step writer (lockstep-writer.ts) as a child process: how many ops it has completed
// (from its "acked N" lines) and a stop that waits for its last op.

import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { PlanOptions } from './lockstep-plan';

const WRITER_JS = path.resolve(__dirname, 'lockstep-writer.js');

export class LockstepWriter {
  acked = 0;
  private output = '';
  /** Resolves once the child exited and its output is all read. */
  private readonly closed: Promise<void>;

  private constructor(readonly child: ChildProcess) {
    this.closed = new Promise((resolve) => child.once('close', () => resolve()));
    let partial = '';
    child.stdout!.on('data', (d: Buffer) => {
      partial += d.toString();
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const l of lines) {
        const m = /^(?:acked|stopped) (\d+)$/.exec(l);
        if (m) this.acked = Math.max(this.acked, Number(m[1]));
      }
    });
    child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  static start(port: number, volumes: string[], plan: PlanOptions): LockstepWriter {
    const child = spawn(process.execPath, [WRITER_JS, '--port', String(port), '--volumes', volumes.join(','), '--seed', String(plan.seed), '--blocks', String(plan.blocks), '--shape', plan.shape], { stdio: ['pipe', 'pipe', 'pipe'] });
    return new LockstepWriter(child);
  }

  get failed(): string | null {
    return this.child.exitCode !== null && this.child.exitCode !== 0 ? `writer exited ${this.child.exitCode}: ${this.output}` : null;
  }

  /** Until at least n ops are acknowledged (or the writer died). */
  async waitAcked(n: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.acked < n) {
      if (this.failed) throw new Error(this.failed);
      if (Date.now() > deadline) throw new Error(`the writer acknowledged ${this.acked} ops, not ${n}, in ${timeoutMs} ms: ${this.output}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Stops after the op in flight; returns how many ops completed. */
  async stop(timeoutMs = 30_000): Promise<number> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    this.child.stdin!.end();
    await this.closed;
    clearTimeout(timer);
    if (this.failed) throw new Error(this.failed);
    return this.acked;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
