// `lsa`: the command-line front end. Each command lives in commands/<name>.ts.

import { LsaError, exitCodeOf } from '../errors';
import { helpText, parseCommandArgs, type Command } from './command';
import { COMMANDS } from './commands/index';

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = [
    'lsa: a log-structured array with rotating parity on sparse files, remote copy and snapshots',
    '',
    'usage: lsa COMMAND [options]      lsa COMMAND --help for the options of one command',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Sizes accept 4096, 4KiB, 1MiB, 4GiB. The default --dir is ./volumes/primary.',
  ];
  return lines.join('\n') + '\n';
}

export async function runCli(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    out.write(usage());
    return name ? 0 : 64;
  }
  if (name === '--version') {
    out.write('lsa 0.1.0\n');
    return 0;
  }
  let cmd: Command | undefined = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    err.write(`lsa: unknown command "${name}"; run lsa --help for the list\n`);
    return 64;
  }
  let args = rest;
  if (cmd.subcommands && args[0] !== undefined && !args[0].startsWith('-')) {
    const sub = cmd.subcommands.find((c) => c.name === `${name} ${args[0]}`);
    if (!sub) {
      err.write(`lsa ${name}: unknown subcommand "${args[0]}"; run lsa ${name} --help for the list\n`);
      return 64;
    }
    cmd = sub;
    args = args.slice(1);
  }
  try {
    const { values, positionals, help } = parseCommandArgs(cmd, args);
    if (help) {
      out.write(helpText(cmd));
      return 0;
    }
    return await cmd.run({ values, positionals, out, err });
  } catch (e) {
    if (e instanceof LsaError) {
      err.write(`lsa ${cmd.name}: ${e.message}\n`);
    } else {
      err.write(`lsa ${cmd.name}: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    }
    return exitCodeOf(e);
  }
}

if (require.main === module || process.argv[1]?.endsWith('bin/lsa')) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`lsa: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = 70;
    },
  );
}
