// What `npm start` (lsa up) prints must work as printed: each line pasted into a new shell in
// the folder it ran in. The lines that talk to the control API (lsa status, lsa snapshot
// create, curl) pass the token without the user doing anything: the CLI's default --dir is the
// primary's folder of a default lsa up, and curl reads the token file. (Before: the guide
// printed `lsa status`, which is not on the PATH after npm ci, and there was no token.)

import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePorts, exec } from '../support/pair-processes';
import { MAIN_JS } from '../support/serve-process';
import { tmpDir } from '../support/tmp';

describe('security: the guide of lsa up', function () {
  this.timeout(240_000);
  let t: ReturnType<typeof tmpDir>;
  let up: ChildProcess | null = null;
  let output = '';

  before(() => {
    t = tmpDir();
  });

  after(async () => {
    if (up && up.exitCode === null) {
      const exited = new Promise((r) => up!.once('exit', r));
      up.kill('SIGINT');
      await exited;
    }
    t.cleanup();
  });

  it('every lsa and curl line it prints works pasted into a shell in that folder; Ctrl-C stops both cleanly', async () => {
    const [nbd, control, replica, secNbd] = await freePorts(4);
    up = spawn(process.execPath, [MAIN_JS, 'up', '--nbd', `127.0.0.1:${nbd}`, '--control', `127.0.0.1:${control}`, '--replica-port', String(replica), '--secondary-nbd', `127.0.0.1:${secNbd}`], { cwd: t.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    up.stdout!.on('data', (b: Buffer) => (output += b.toString()));
    up.stderr!.on('data', (b: Buffer) => (output += b.toString()));
    const deadline = Date.now() + 120_000;
    while (!/Ctrl-C here stops both/.test(output)) {
      if (Date.now() > deadline || up.exitCode !== null) throw new Error(`no guide from lsa up:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const guide = output.slice(output.indexOf('Paste any of these lines'));
    const commands = guide.split('\n').filter((l) => /^ {2}[^#\s]/.test(l)).map((l) => l.trim());
    const ours = commands.filter((c) => /(^|\/)bin\/lsa |^curl /.test(c));
    expect(ours.length, guide).to.equal(4);
    expect(guide).to.contain('control.token');
    expect(guide).to.not.match(/^ {2}lsa /m);
    for (const line of ours) {
      const r = await exec('bash', ['-c', `cd ${JSON.stringify(t.dir)} && ${line}`], 60_000);
      expect(r.code, `${line}\n${r.stdout}\n${r.stderr}`).to.equal(0);
      if (line.includes(' status')) expect(r.stdout).to.match(/vol0 +duplex/);
      if (line.startsWith('curl')) expect(JSON.parse(r.stdout)).to.have.property('connected', true);
    }
    expect(fs.existsSync(path.join(t.dir, 'volumes', 'secondary', 'snapshots', 'vol0', 'latest.snap'))).to.equal(true);
    const exited = new Promise<number | null>((r) => up!.once('exit', (code) => r(code)));
    up.kill('SIGINT');
    expect(await exited).to.equal(0);
    expect(output).to.not.match(/again: exiting without a clean shutdown/);
    expect(output).to.match(/primary: .*array closed[^]*secondary: .*array closed/);
  });
});
