// The shape of an `lsa` command and the argument parsing they share (node:util parseArgs,
// strict: an unknown option is an error that points at --help).

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InvalidArgumentError } from '../errors';
import { parseSize } from '../util/size';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & { description: string; valueName?: string };

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  /** Positional arguments allowed (names for the help text). */
  positionals?: string[];
  details?: string;
  /** `lsa NAME SUB ...`: each named `NAME SUB`, with its own options and --help. */
  subcommands?: Command[];
  run(ctx: CommandContext): Promise<number>;
}

export interface CommandContext {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

export const DEFAULT_DIR = './volumes/primary';

export const DIR_OPTION: OptionSpec = { type: 'string', default: DEFAULT_DIR, description: 'array folder', valueName: 'DIR' };
export const JSON_OPTION: OptionSpec = { type: 'boolean', default: false, description: 'print machine-readable JSON' };
export const QUIET_OPTION: OptionSpec = { type: 'boolean', default: false, description: 'no progress output' };

export function helpText(cmd: Command): string {
  const lines = [`lsa ${cmd.name}: ${cmd.summary}`, '', `usage: ${cmd.usage}`, ''];
  const opts = Object.entries({ ...cmd.options, help: { type: 'boolean', description: 'show this help' } as OptionSpec });
  const width = Math.max(...opts.map(([k, o]) => optLabel(k, o).length));
  lines.push('options:');
  for (const [k, o] of opts) {
    const def = o.default !== undefined && o.default !== false ? ` (default: ${String(o.default)})` : '';
    lines.push(`  ${optLabel(k, o).padEnd(width)}  ${o.description}${def}`);
  }
  if (cmd.subcommands) {
    const w = Math.max(...cmd.subcommands.map((c) => c.name.length));
    lines.push('', 'subcommands (each has --help):', ...cmd.subcommands.map((c) => `  lsa ${c.name.padEnd(w)}  ${c.summary}`));
  }
  if (cmd.details) lines.push('', cmd.details);
  return lines.join('\n') + '\n';
}

function optLabel(k: string, o: OptionSpec): string {
  const short = o.short ? `-${o.short}, ` : '';
  return o.type === 'string' ? `${short}--${k} ${o.valueName ?? 'VALUE'}` : `${short}--${k}`;
}

export function parseCommandArgs(cmd: Command, argv: string[]): { values: CommandContext['values']; positionals: string[]; help: boolean } {
  const options: Record<string, NonNullable<ParseArgsConfig['options']>[string]> = { help: { type: 'boolean', short: 'h' } };
  for (const [k, o] of Object.entries(cmd.options)) {
    const { description: _d, valueName: _v, ...spec } = o;
    options[k] = spec;
  }
  try {
    const parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    const positionals = parsed.positionals;
    const help = parsed.values.help === true;
    if (!help && positionals.length > (cmd.positionals?.length ?? 0)) {
      throw new InvalidArgumentError(`unexpected argument "${positionals[cmd.positionals?.length ?? 0]}"`);
    }
    return { values: parsed.values as CommandContext['values'], positionals, help };
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw new InvalidArgumentError(`${err.message}; see: lsa ${cmd.name} --help`);
    throw new InvalidArgumentError(`${(err as Error).message.replace(/\. To specify a positional.*$/s, '')}; see: lsa ${cmd.name} --help`);
  }
}

// ---- typed accessors that name the option in their errors ----

export function str(ctx: CommandContext, name: string): string {
  const v = ctx.values[name];
  if (typeof v !== 'string' || v === '') throw new InvalidArgumentError(`--${name} is required`);
  return v;
}

export function optStr(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function flag(ctx: CommandContext, name: string): boolean {
  return ctx.values[name] === true;
}

export function size(ctx: CommandContext, name: string): number {
  return parseSize(str(ctx, name), `--${name}`);
}

export function optSize(ctx: CommandContext, name: string): number | undefined {
  const v = optStr(ctx, name);
  return v === undefined ? undefined : parseSize(v, `--${name}`);
}

export function int(ctx: CommandContext, name: string, min: number, max: number): number {
  const text = str(ctx, name);
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new InvalidArgumentError(`--${name} must be a whole number from ${min} to ${max}; got "${text}"`);
  }
  return n;
}

export function printJson(ctx: CommandContext, value: unknown): void {
  ctx.out.write(JSON.stringify(value, null, 2) + '\n');
}
