// Everything an array holds is its owner's alone: the folder 0700 and every file in it 0600
// (disks, nvram.sqlite with -wal and -shm, lock, snapshots, replication.key, control.token),
// whatever the umask (this test runs the commands with umask 000). A key or token file that
// others may read, that is a symbolic link, or that is too short or not whole bytes of hex
// is refused at start, naming the fix; it is never loosened or "fixed" silently.

import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePorts, lsa } from '../support/pair-processes';
import { ServerProcess } from '../support/serve-process';
import { tmpDir } from '../support/tmp';

/** Every folder and file under `root` with a mode that is not owner-only. */
function loose(root: string): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    const st = fs.lstatSync(p);
    const mode = st.mode & 0o777;
    if (st.isDirectory()) {
      if (mode !== 0o700) out.push(`${p} (folder 0${mode.toString(8)})`);
      for (const e of fs.readdirSync(p)) walk(path.join(p, e));
    } else if (mode !== 0o600) out.push(`${p} (0${mode.toString(8)})`);
  };
  walk(root);
  return out;
}

function names(root: string): string[] {
  const out: string[] = [];
  const walk = (p: string, rel: string): void => {
    for (const e of fs.readdirSync(p, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(p, e.name), `${rel}${e.name}/`);
      else out.push(`${rel}${e.name}`);
    }
  };
  walk(root, '');
  return out.sort();
}

describe('security: files on disk', function () {
  this.timeout(180_000);
  let t: ReturnType<typeof tmpDir>;
  let umask = 0;
  let p = '';
  let s = '';
  const servers: ServerProcess[] = [];

  before(() => {
    t = tmpDir();
    p = path.join(t.dir, 'arrays', 'primary');
    s = path.join(t.dir, 'arrays', 'secondary');
    umask = process.umask(0o000); // the children inherit it: the modes must not come from it
  });

  after(async () => {
    process.umask(umask);
    for (const x of servers) await x.stop('SIGKILL').catch(() => undefined);
    t.cleanup();
  });

  it('lsa init, lsa serve and a snapshot leave a 0700 folder of 0600 files, with umask 000', async () => {
    const geometry = ['--disks', '4', '--disk-size', '16MiB', '--column-size', '256KiB'];
    const a = await lsa(['init', '--dir', p, ...geometry, '--capacity', '8MiB']);
    expect(a.code, a.stderr).to.equal(0);
    expect(a.stdout).to.match(/control token: .*control\.token \(mode 0600/);
    const b = await lsa(['init', '--dir', s, ...geometry, '--no-volume']);
    expect(b.code, b.stderr).to.equal(0);
    fs.copyFileSync(path.join(p, 'replication.key'), path.join(s, 'replication.key'));
    fs.chmodSync(path.join(s, 'replication.key'), 0o600);
    expect(names(p)).to.deep.equal(['control.token', 'disk-0.img', 'disk-1.img', 'disk-2.img', 'disk-3.img', 'nvram.sqlite', 'replication.key']);
    expect(loose(p), 'after lsa init').to.deep.equal([]);
    expect(loose(s), 'after lsa init').to.deep.equal([]);

    const [replica, control] = await freePorts(2);
    const sec = await ServerProcess.start(['--dir', s, '--replica-listen', `127.0.0.1:${replica}`]);
    servers.push(sec);
    const pri = await ServerProcess.start(['--dir', p, '--secondary', `127.0.0.1:${replica}`, '--control', `127.0.0.1:${control}`]);
    servers.push(pri);
    await pri.waitFor(/control API listening/, 30_000);
    const snap = await lsa(['snapshot', 'create', '--volume', 'vol0', '--name', 'one', '--wait', '--control', `127.0.0.1:${control}`, '--dir', p]);
    expect(snap.code, snap.stderr).to.equal(0);
    // while serving: the lock, SQLite's -wal and -shm, the snapshot and its folders
    expect(names(p)).to.include.members(['lock', 'nvram.sqlite-wal', 'nvram.sqlite-shm']);
    expect(names(s)).to.include.members(['lock', 'snapshots/vol0/one.snap', 'nvram.sqlite-wal']);
    expect(loose(p), 'primary while serving').to.deep.equal([]);
    expect(loose(s), 'secondary while serving').to.deep.equal([]);
    expect(await pri.stop('SIGTERM')).to.equal(0);
    expect(await sec.stop('SIGTERM')).to.equal(0);
    expect(loose(p), 'primary after serve').to.deep.equal([]);
    expect(loose(s), 'secondary after serve').to.deep.equal([]);
    expect(fs.statSync(path.dirname(p)).mode & 0o777, 'the folder lsa init made for it').to.equal(0o700);
  });

  it('a key or token file others can read, a symlinked key, an odd-length or short key: refused at start, naming the fix', async () => {
    const [replica] = await freePorts(1);
    const key = path.join(s, 'replication.key');
    const serveSecondary = (extra: string[] = []): ReturnType<typeof lsa> => lsa(['serve', '--dir', s, '--nbd', '127.0.0.1:0', '--replica-listen', `127.0.0.1:${replica}`, ...extra], 30_000);
    const good = fs.readFileSync(key, 'utf8');

    fs.chmodSync(key, 0o640);
    const groupReadable = await serveSecondary();
    expect(groupReadable.code, groupReadable.stderr).to.equal(64);
    expect(groupReadable.stderr).to.contain(`replication key ${key} has mode 0640`).and.to.contain(`chmod 600 ${key}`);
    expect(fs.statSync(key).mode & 0o777, 'not fixed silently').to.equal(0o640);
    fs.chmodSync(key, 0o600);

    const link = path.join(t.dir, 'key-link');
    fs.symlinkSync(key, link);
    const linked = await serveSecondary(['--key-file', link]);
    expect(linked.code, linked.stderr).to.equal(64);
    expect(linked.stderr).to.match(/is a symbolic link/);

    fs.writeFileSync(key, good.trim().slice(0, 63) + '\n');
    const odd = await serveSecondary();
    expect(odd.code).to.equal(64);
    expect(odd.stderr).to.match(/odd number of hex digits/);
    fs.writeFileSync(key, good.trim().slice(0, 62) + '\n');
    const short = await serveSecondary();
    expect(short.code).to.equal(64);
    expect(short.stderr).to.match(/holds 31 bytes; at least 32 are needed/);
    fs.writeFileSync(key, good);

    const token = path.join(p, 'control.token');
    fs.chmodSync(token, 0o604);
    const r = await lsa(['serve', '--dir', p, '--nbd', '127.0.0.1:0', '--control', '127.0.0.1:0'], 30_000);
    expect(r.code, r.stderr).to.equal(64);
    expect(r.stderr).to.contain(`chmod 600 ${token}`);
    fs.chmodSync(token, 0o600);
  });
});
