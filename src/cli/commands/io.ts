// lsa write / read / trim: byte I/O on a volume from the command line.

import { InvalidArgumentError } from '../../errors';
import { fileSize, HostFileWriter, readFileChunks, readStreamAll, writeStdout } from '../../io/host-files';
import { openCommandArray } from '../open-command-array';
import { volumeByName, type Volume } from '../../volume/volume';
import { parseSize } from '../../util/size';
import { DIR_OPTION, flag, optStr, size, str, type Command, type CommandContext } from '../command';
import { volumeNameOf } from '../names';

const CHUNK_BYTES = 1024 * 1024;

const VOLUME_OPTION = { type: 'string' as const, default: 'vol0', description: 'volume name', valueName: 'NAME' };

function checkRange(v: Volume, offset: number, length: number): void {
  if (offset < 0 || offset + length > v.sizeBytes) {
    throw new InvalidArgumentError(`bytes ${offset}..${offset + length - 1} are outside volume ${v.name} (${v.sizeBytes} bytes); nothing was written`, { offset, length });
  }
}

export const writeCommand: Command = {
  name: 'write',
  summary: 'write a file (or stdin with -) into a volume at --offset; flushes before it exits',
  usage: 'lsa write [--dir DIR] --volume NAME --offset BYTES [--fua] FILE|-',
  positionals: ['FILE'],
  options: {
    dir: DIR_OPTION,
    volume: VOLUME_OPTION,
    offset: { type: 'string', default: '0', description: 'byte offset in the volume (any alignment; 1MiB style accepted)', valueName: 'BYTES' },
    fua: { type: 'boolean', default: false, description: 'force unit access: each chunk is durable before the next' },
  },
  async run(ctx: CommandContext) {
    const input = ctx.positionals[0];
    if (!input) throw new InvalidArgumentError('name the input: lsa write ... FILE (or - for stdin)');
    const offset = parseSize(str(ctx, 'offset'), '--offset');
    const engine = await openCommandArray(str(ctx, 'dir'));
    try {
      const v = volumeByName(engine, volumeNameOf(ctx));
      const fua = flag(ctx, 'fua');
      let written = 0;
      if (input === '-') {
        const data = await readStreamAll(process.stdin, v.sizeBytes - offset);
        if (!data) throw new InvalidArgumentError(`stdin holds more than the ${v.sizeBytes - offset} bytes left in volume ${v.name} after offset ${offset}; nothing was written`);
        checkRange(v, offset, data.length);
        for (let at = 0; at < data.length; at += CHUNK_BYTES) {
          const chunk = data.subarray(at, Math.min(data.length, at + CHUNK_BYTES));
          await v.write(offset + at, chunk, { fua });
        }
        written = data.length;
      } else {
        checkRange(v, offset, fileSize(input));
        for await (const chunk of readFileChunks(input, CHUNK_BYTES)) {
          checkRange(v, offset + written, chunk.length); // the file may have grown meanwhile
          await v.write(offset + written, chunk, { fua });
          written += chunk.length;
        }
      }
      await v.flush();
      ctx.err.write(`wrote ${written} bytes to ${v.name} at offset ${offset}\n`);
    } finally {
      await engine.close();
    }
    return 0;
  },
};

export const readCommand: Command = {
  name: 'read',
  summary: 'read bytes of a volume to stdout or --out FILE',
  usage: 'lsa read [--dir DIR] --volume NAME --offset BYTES --length BYTES [--out FILE]',
  options: {
    dir: DIR_OPTION,
    volume: VOLUME_OPTION,
    offset: { type: 'string', default: '0', description: 'byte offset in the volume', valueName: 'BYTES' },
    length: { type: 'string', description: 'bytes to read (default: to the end of the volume)', valueName: 'BYTES' },
    out: { type: 'string', description: 'write to this file instead of stdout', valueName: 'FILE' },
  },
  async run(ctx) {
    const offset = parseSize(str(ctx, 'offset'), '--offset');
    const engine = await openCommandArray(str(ctx, 'dir'));
    try {
      const v = volumeByName(engine, volumeNameOf(ctx));
      const length = optStr(ctx, 'length') !== undefined ? size(ctx, 'length') : Math.max(0, v.sizeBytes - offset);
      if (offset < 0 || offset + length > v.sizeBytes) {
        throw new InvalidArgumentError(`bytes ${offset}..${offset + length - 1} are outside volume ${v.name} (${v.sizeBytes} bytes)`);
      }
      const outPath = optStr(ctx, 'out');
      const file = outPath ? HostFileWriter.create(outPath) : null;
      try {
        for (let at = 0; at < length; at += CHUNK_BYTES) {
          const n = Math.min(CHUNK_BYTES, length - at);
          const buf = await v.read(offset + at, n);
          if (file) file.write(buf, at);
          else await writeStdout(buf);
        }
      } finally {
        file?.close();
      }
    } finally {
      await engine.close();
    }
    return 0;
  },
};

export const trimCommand: Command = {
  name: 'trim',
  summary: 'discard a byte range of a volume (reads as zeros, takes no space); flushes before it exits',
  usage: 'lsa trim [--dir DIR] --volume NAME --offset BYTES --length BYTES',
  options: {
    dir: DIR_OPTION,
    volume: VOLUME_OPTION,
    offset: { type: 'string', description: 'byte offset in the volume', valueName: 'BYTES' },
    length: { type: 'string', description: 'bytes to discard', valueName: 'BYTES' },
  },
  async run(ctx) {
    const offset = size(ctx, 'offset');
    const length = size(ctx, 'length');
    const engine = await openCommandArray(str(ctx, 'dir'));
    try {
      const v = volumeByName(engine, volumeNameOf(ctx));
      checkRange(v, offset, length);
      await v.trim(offset, length);
      await v.flush();
    } finally {
      await engine.close();
    }
    return 0;
  },
};
