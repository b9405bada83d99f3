import type { Command } from '../command';
import { checkCommand } from './check';
import { statusCommand } from './status';
import { snapshotCommand } from './snapshot';
import { crashtestCommand } from './crashtest';
import { rebuildCommand } from './rebuild';
import { gcCommand } from './gc';
import { initCommand } from './init';
import { inspectCommand } from './inspect';
import { readCommand, trimCommand, writeCommand } from './io';
import { recoverCommand } from './recover';
import { serveCommand } from './serve';
import { upCommand } from './up';
import { volumeCommand } from './volume';

export const COMMANDS: Command[] = [
  initCommand,
  volumeCommand,
  writeCommand,
  readCommand,
  trimCommand,
  inspectCommand,
  checkCommand,
  gcCommand,
  rebuildCommand,
  recoverCommand,
  crashtestCommand,
  serveCommand,
  upCommand,
  statusCommand,
  snapshotCommand,
];
