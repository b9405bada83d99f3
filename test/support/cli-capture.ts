// Runs an `lsa` command in this process and captures what it prints.

import { Writable } from 'node:stream';
import { runCli } from '../../src/cli/main';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

class TextSink extends Writable {
  text = '';

  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.text += chunk.toString();
    done();
  }
}

export async function runLsa(args: string[]): Promise<CliResult> {
  const out = new TextSink();
  const err = new TextSink();
  const code = await runCli(args, out, err);
  return { code, out: out.text, err: err.text };
}

/** Runs a command that must succeed and parses its --json output. */
export async function lsaJson<T>(args: string[]): Promise<T> {
  const r = await runLsa([...args, '--json']);
  if (r.code !== 0) throw new Error(`lsa ${args.join(' ')} exited ${r.code}: ${r.err}`);
  return JSON.parse(r.out) as T;
}
