// The control API against the requests the issue tried as a new user and as a web page would:
// raw node:http requests (every header exactly as written) to a real `lsa serve` primary with
// a real secondary. Each refusal must answer with its status and code and change nothing; the
// token is never written to the log. (Before: every one of these was served, and a POST with
// Content-Type text/plain and an Origin header rolled a volume back.)

import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { NbdTestClient } from '../support/nbd-client';
import { Pair, lsa } from '../support/pair-processes';
import { controlToken, rawRequest, type RawReply } from '../support/control-http';
import { tmpDir } from '../support/tmp';

const MiB = 1024 * 1024;
const SNAPSHOTS_MAX = 3;

describe('security: the control API', function () {
  this.timeout(180_000);
  let t: ReturnType<typeof tmpDir>;
  let pair: Pair | null = null;
  let token = '';

  before(async () => {
    t = tmpDir();
    pair = await Pair.start(path.join(t.dir, 'pair'), [['vol0', 16 * MiB]], 'sync', undefined, { primary: ['--snapshots-max', String(SNAPSHOTS_MAX), '--log-level', 'debug'] });
    token = controlToken(pair.primaryDir);
    await pair.waitDuplex();
  });

  it('an array made without a token (before tokens existed) gets one from lsa serve --control, 0600, with an info line', () => {
    expect(pair!.primary!.log).to.match(/ info .*created the control token .*path=\S*control\.token/);
    expect(fs.statSync(path.join(pair!.primaryDir, 'control.token')).mode & 0o777).to.equal(0o600);
    expect(token).to.match(/^[0-9a-f]{64}$/);
  });

  after(async () => {
    await pair?.kill();
    t.cleanup();
  });

  const port = (): number => pair!.controlPort;
  const json = { 'content-type': 'application/json' };
  const bearer = (tok: string): Record<string, string> => ({ authorization: `Bearer ${tok}` });
  const post = (p: string, body: unknown, headers: Record<string, string>): Promise<RawReply> => rawRequest(port(), { method: 'POST', path: p, headers, body: JSON.stringify(body) });

  async function snapshotNames(): Promise<string[]> {
    const r = await lsa(['snapshot', 'list', '--dir', pair!.secondaryDir, '--json']);
    expect(r.code, r.stderr).to.equal(0);
    return (JSON.parse(r.stdout) as { name: string }[]).map((s) => s.name).sort();
  }

  const refusedLines = (): string[] => pair!.primary!.log.split('\n').filter((l) => /control request refused/.test(l));

  it('no token and a wrong token: 401 with a JSON error, one warn line each (never the token), nothing taken', async () => {
    const before = refusedLines().length;
    const none = await post('/volumes/vol0/snapshots', { name: 'x' }, json);
    expect(none.status, none.text).to.equal(401);
    expect(none.json).to.include({ code: 'LSA_UNAUTHORIZED' });
    expect(String(none.json!.error)).to.match(/Authorization: Bearer/);
    expect(none.headers['www-authenticate']).to.match(/^Bearer/);
    const wrongToken = randomBytes(32).toString('hex');
    const wrong = await post('/volumes/vol0/snapshots', { name: 'x' }, { ...json, ...bearer(wrongToken) });
    expect(wrong.status).to.equal(401);
    const status = await rawRequest(port(), { method: 'GET', path: '/status', headers: bearer(token.slice(0, 63)) });
    expect(status.status, 'a prefix of the token is not the token').to.equal(401);
    // the child's stderr arrives on its own time: wait for the third line, then look at all
    for (let i = 0; i < 200 && refusedLines().length < before + 3; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    const lines = refusedLines().slice(before);
    expect(lines.length, lines.join('\n')).to.equal(3);
    for (const l of lines) {
      expect(l).to.match(/ warn /);
      expect(l).to.not.contain(token.slice(0, 16));
      expect(l).to.not.contain(wrongToken.slice(0, 16));
    }
    expect(await snapshotNames()).to.deep.equal([]);
  });

  it('Origin, text/plain and a Host that is not the listening address: 403 / 415, nothing changed (the restore a web page could forge)', async () => {
    const auth = { ...json, ...bearer(token) };
    // content the volume has now, and an older snapshot of other content
    const c = await NbdTestClient.open(pair!.primary!.port, { exportName: 'vol0' });
    expect((await c.write(0, Buffer.alloc(64 * 1024, 0x0a))).errno).to.equal(0);
    expect((await c.flush()).errno).to.equal(0);
    const old = await post('/volumes/vol0/snapshots', { name: 'old', wait: true }, auth);
    expect(old.status, old.text).to.equal(201);
    expect((await c.write(0, Buffer.alloc(64 * 1024, 0x0b))).errno).to.equal(0);
    expect((await c.flush()).errno).to.equal(0);

    const origin = await post('/volumes/vol0/restore', { name: 'old' }, { ...auth, origin: 'http://evil.example' });
    expect(origin.status, origin.text).to.equal(403);
    expect(origin.json).to.include({ code: 'LSA_FORBIDDEN' });
    const plain = await post('/volumes/vol0/restore', { name: 'old' }, { ...auth, 'content-type': 'text/plain' });
    expect(plain.status, plain.text).to.equal(415);
    expect(plain.json).to.include({ code: 'LSA_UNSUPPORTED_MEDIA_TYPE' });
    const form = await post('/volumes/vol0/snapshots', { name: 'old', replace: true }, { ...auth, 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).to.equal(415);
    const rebound = await post('/volumes/vol0/restore', { name: 'old' }, { ...auth, host: `evil.example:${port()}` });
    expect(rebound.status, rebound.text).to.equal(403);
    const otherPort = await post('/volumes/vol0/restore', { name: 'old' }, { ...auth, host: `127.0.0.1:${port() + 1}` });
    expect(otherPort.status).to.equal(403);
    const read = await c.read(0, 64 * 1024);
    expect(read.data!.equals(Buffer.alloc(64 * 1024, 0x0b)), 'the volume was not rolled back').to.equal(true);
    await c.disconnect();

    // the names a client of a loopback listener may use
    for (const host of [`127.0.0.1:${port()}`, `localhost:${port()}`]) {
      const ok = await rawRequest(port(), { method: 'GET', path: '/status', headers: { ...bearer(token), host } });
      expect(ok.status, `${host}: ${ok.text}`).to.equal(200);
    }
    expect(await snapshotNames()).to.deep.equal(['old']);
  });

  it('an existing name is refused with 409 unless "replace": true (latest replaces itself); past --snapshots-max, 429 naming lsa snapshot delete', async () => {
    const auth = { ...json, ...bearer(token) };
    const again = await post('/volumes/vol0/snapshots', { name: 'old', wait: true }, auth);
    expect(again.status, again.text).to.equal(409);
    expect(again.json).to.include({ code: 'LSA_ALREADY_EXISTS' });
    const cli = await lsa(['snapshot', 'create', '--volume', 'vol0', '--name', 'old', '--wait', ...pair!.controlArgs]);
    expect(cli.code, cli.stderr).to.equal(73);
    expect(cli.stderr).to.match(/exists already.*--replace/);
    const replaced = await lsa(['snapshot', 'create', '--volume', 'vol0', '--name', 'old', '--replace', '--wait', ...pair!.controlArgs]);
    expect(replaced.code, replaced.stderr).to.equal(0);
    for (let i = 0; i < 2; i++) {
      const latest = await post('/volumes/vol0/snapshots', { wait: true }, auth);
      expect(latest.status, latest.text).to.equal(201);
    }
    const third = await post('/volumes/vol0/snapshots', { name: 'third', wait: true }, auth);
    expect(third.status, third.text).to.equal(201);
    expect(await snapshotNames()).to.deep.equal(['latest', 'old', 'third']);
    const full = await post('/volumes/vol0/snapshots', { name: 'fourth', wait: true }, auth);
    expect(full.status, full.text).to.equal(429);
    expect(full.json).to.include({ code: 'LSA_LIMIT_REACHED' });
    expect(String(full.json!.error)).to.contain('lsa snapshot delete');
    const fullCli = await lsa(['snapshot', 'create', '--volume', 'vol0', '--name', 'fourth', '--wait', ...pair!.controlArgs]);
    expect(fullCli.code, fullCli.stderr).to.equal(73);
    const replaceAtLimit = await post('/volumes/vol0/snapshots', { name: 'third', replace: true, wait: true }, auth);
    expect(replaceAtLimit.status, 'replacing does not add one').to.equal(201);
    expect(await snapshotNames()).to.deep.equal(['latest', 'old', 'third']);
  });

  it('a malformed percent-encoding is 400, an unknown path 404, each with its code', async () => {
    const bad = await post('/volumes/%E0%A4%A/snapshots', {}, { ...json, ...bearer(token) });
    expect(bad.status, bad.text).to.equal(400);
    expect(bad.json).to.include({ code: 'LSA_INVALID_ARGUMENT' });
    const none = await rawRequest(port(), { method: 'GET', path: '/nothing', headers: bearer(token) });
    expect(none.status).to.equal(404);
    expect(none.json).to.include({ code: 'LSA_NOT_FOUND' });
  });

  it('the CLI reads the token from --dir or --token-file, says what to do when it has none, and refuses a token file others can read', async () => {
    const fromDir = await lsa(['status', ...pair!.controlArgs, '--json']);
    expect(fromDir.code, fromDir.stderr).to.equal(0);
    const copy = path.join(t.dir, 'my.token');
    fs.writeFileSync(copy, `${token}\n`, { mode: 0o600 });
    const fromFile = await lsa(['status', '--control', pair!.control, '--token-file', copy, '--json']);
    expect(fromFile.code, fromFile.stderr).to.equal(0);
    const missing = await lsa(['status', '--control', pair!.control, '--dir', path.join(t.dir, 'nowhere')]);
    expect(missing.code).to.equal(66);
    expect(missing.stderr).to.match(/control token .*nowhere.*control\.token is missing.*--token-file/);
    fs.chmodSync(copy, 0o644);
    const loose = await lsa(['status', '--control', pair!.control, '--token-file', copy]);
    expect(loose.code).to.equal(64);
    expect(loose.stderr).to.contain(`chmod 600 ${copy}`);
    fs.chmodSync(copy, 0o600);
    fs.writeFileSync(copy, `${randomBytes(32).toString('hex')}\n`);
    const wrong = await lsa(['status', '--control', pair!.control, '--token-file', copy]);
    expect(wrong.code, 'LSA_UNAUTHORIZED').to.equal(77);
    expect(wrong.stderr).to.match(/lsa status: status: a wrong credential/);
  });

  it('a client that goes away before the answer is logged at debug, and the server carries on', async () => {
    const secondaryPid = pair!.secondary!.child.pid!;
    process.kill(secondaryPid, 'SIGSTOP'); // the completion cannot come while it is stopped
    try {
      const gone = rawRequest(port(), { method: 'POST', path: '/volumes/vol0/snapshots', headers: { ...json, ...bearer(token) }, body: JSON.stringify({ name: 'slow', timeoutMs: 3000 }), timeoutMs: 500 });
      await gone.then(() => expect.fail('answered while the secondary was stopped'), (err: Error) => expect(err.message).to.match(/timed out/));
      await pair!.primary!.waitFor(/ debug .*control client went away before the answer/, 10_000);
    } finally {
      process.kill(secondaryPid, 'SIGCONT');
    }
    await pair!.waitDuplex();
    const ok = await rawRequest(port(), { method: 'GET', path: '/status', headers: bearer(token) });
    expect(ok.status).to.equal(200);
  });
});
