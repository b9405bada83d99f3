import type { Command } from '../command';
import { checkCommand } from './check';
import { initCommand } from './init';
import { inspectCommand } from './inspect';
import { readCommand, trimCommand, writeCommand } from './io';
import { volumeCommand } from './volume';

export const COMMANDS: Command[] = [
  initCommand,
  volumeCommand,
  writeCommand,
  readCommand,
  trimCommand,
  inspectCommand,
  checkCommand,
];
