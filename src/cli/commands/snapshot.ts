// lsa snapshot: the snapshot relay from the command line. create and restore talk to the
// primary's control API; list, export, diff and delete work on the secondary's folder.

import { InvalidArgumentError } from '../../errors';
import type { Command } from '../command';
import { snapshotCreateCommand } from './snapshot-create';
import { snapshotDeleteCommand } from './snapshot-delete';
import { snapshotDiffCommand } from './snapshot-diff';
import { snapshotExportCommand } from './snapshot-export';
import { snapshotListCommand } from './snapshot-list';
import { snapshotRestoreCommand } from './snapshot-restore';

export const snapshotCommand: Command = {
  name: 'snapshot',
  summary: 'snapshots on the secondary: create, list, export, diff, delete, restore',
  usage: 'lsa snapshot create|list|export|diff|delete|restore [options]   (lsa snapshot SUB --help)',
  options: {},
  subcommands: [snapshotCreateCommand, snapshotListCommand, snapshotExportCommand, snapshotDiffCommand, snapshotDeleteCommand, snapshotRestoreCommand],
  async run() {
    throw new InvalidArgumentError('say what to do: lsa snapshot create|list|export|diff|delete|restore (lsa snapshot --help)');
  },
};
