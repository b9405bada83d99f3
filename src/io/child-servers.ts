// Server processes that `lsa up` starts and stops: their stderr lines are passed on with a
// prefix, and SIGTERM asks each to shut down cleanly.

import { spawn, type ChildProcess } from 'node:child_process';

export interface ServerChild {
  readonly name: string;
  readonly pid: number;
  readonly exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

export function startServerChild(name: string, script: string, args: string[], onLine: (line: string) => void): ServerChild {
  // stdin stays open as a lifeline: if this process dies, even by SIGKILL, the child sees its
  // stdin end and shuts down cleanly (serve --exit-with-parent). Its own process group: a
  // Ctrl-C in the terminal reaches only this process, which stops the children in order
  // (otherwise each got SIGINT from the terminal and then SIGTERM from us, "again": unclean)
  const child: ChildProcess = spawn(process.execPath, [script, ...args, '--exit-with-parent'], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let partial = '';
  const relay = (chunk: Buffer): void => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) onLine(`${name}: ${l}`);
  };
  child.stdout!.on('data', relay);
  child.stderr!.on('data', relay);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    name,
    pid: child.pid ?? -1,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
