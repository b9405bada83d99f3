// lsa snapshot export: a snapshot as a raw image file (sparse where the volume held no data),
// byte for byte the volume at the snapshot's barrier.

import { HostFileWriter } from '../../io/host-files';
import { exportSnapshot } from '../../snapshot/snapshot-export';
import { formatApprox } from '../../util/size';
import { JSON_OPTION, QUIET_OPTION, flag, printJson, str, type Command } from '../command';
import { Progress } from '../progress';
import { DEFAULT_SECONDARY_NBD_PORT } from '../replication-setup';
import { SECONDARY_DIR_OPTION, withSnapshots } from '../snapshot-array';
import { snapshotNameOf, volumeNameOf } from '../names';

export const snapshotExportCommand: Command = {
  name: 'snapshot export',
  summary: 'write a snapshot out as a raw image (sparse: holes where the volume held no data)',
  usage: 'lsa snapshot export [--dir volumes/secondary] --volume vol0 --name NAME --out FILE [--json] [--quiet]',
  options: {
    dir: SECONDARY_DIR_OPTION,
    volume: { type: 'string', default: 'vol0', description: 'volume of the snapshot', valueName: 'NAME' },
    name: { type: 'string', description: 'snapshot name', valueName: 'NAME' },
    out: { type: 'string', description: 'raw image file to write (replaced if it exists)', valueName: 'FILE' },
    json: JSON_OPTION,
    quiet: QUIET_OPTION,
  },
  details: `While lsa serve holds the secondary, read the snapshot over NBD instead:\n  qemu-img convert -f raw -O raw nbd://127.0.0.1:${DEFAULT_SECONDARY_NBD_PORT}/VOLUME@NAME FILE`,
  async run(ctx) {
    const dir = str(ctx, 'dir');
    const volume = volumeNameOf(ctx);
    const name = snapshotNameOf(ctx);
    const outPath = str(ctx, 'out');
    const instead = `Read the snapshot from that server over NBD instead:\n  qemu-img convert -f raw -O raw nbd://127.0.0.1:${DEFAULT_SECONDARY_NBD_PORT}/${volume}@${name} ${outPath}\n(use the server's --nbd port if it is not ${DEFAULT_SECONDARY_NBD_PORT}), or stop the server first.`;
    return withSnapshots(ctx, dir, instead, async (engine, store) => {
      const snap = store.get(volume, name);
      const t0 = Date.now();
      const progress = new Progress(`export ${volume}@${name}`, flag(ctx, 'json') || flag(ctx, 'quiet'));
      const out = HostFileWriter.create(outPath);
      let counts;
      try {
        counts = await exportSnapshot(engine, snap, out, (done, total) => progress.update(done, total, formatApprox(done)));
      } finally {
        out.close();
        progress.done();
      }
      const result = { volume, name, seq: snap.header.barrierSeq, out: outPath, bytes: counts.bytes, dataBytes: counts.dataBytes, durationMs: Date.now() - t0 };
      if (flag(ctx, 'json')) printJson(ctx, result);
      else ctx.out.write(`exported ${volume}@${name} (sequence ${result.seq}) to ${outPath}: ${formatApprox(result.bytes)}, ${formatApprox(result.dataBytes)} of data, the rest holes\n`);
      return 0;
    });
  },
};
