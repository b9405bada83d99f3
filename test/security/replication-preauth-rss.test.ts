// A real `lsa serve --replica-listen` against a crowd of strangers: many connections at once,
// each announcing a 4 MiB frame and sending megabytes of garbage after it, none with the key.
// The secondary's peak RSS (VmHWM from /proc) must stay within a small budget of what it was
// before (frames over 4 KiB close a connection before authentication; at most 8 handshakes
// at a time), and afterwards a real primary still pairs with it.

import { expect } from 'chai';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { HANDSHAKES_MAX } from '../../src/replication/handshake-gate';
import { MSG } from '../../src/replication/messages';
import { ProcessPair } from '../support/replication-pair';
import { RawPeer } from '../support/raw-link';
import { tmpDir } from '../support/tmp';

const CONNECTIONS = 64;
const CLAIMED_BYTES = 4 * 1024 * 1024;
/** What each stranger sends after its header (the frame never completes). */
const GARBAGE_BYTES = CLAIMED_BYTES - 1;
/** Peak RSS may grow this much: a few connections' buffers, not 64 x 4 MiB. */
const RSS_GROWTH_MAX_BYTES = 48 * 1024 * 1024;

function peakRssBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  if (!m) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/** How long a stranger that has sent everything waits for the secondary to close on it. The
 * secondary closes at the header, so this only bounds a failure; it is long because a loaded
 * machine may take seconds to run the secondary's side. */
const HOLD_MS = 15_000;

/** One stranger: a header that announces CLAIMED_BYTES, then garbage as fast as the socket
 * takes it, until the secondary closes the connection. `closedEarly`: the secondary closed it
 * (the kernel's loopback buffers may have taken all the garbage before the close arrived, so
 * the bytes sent say nothing), rather than the stranger giving up after HOLD_MS. */
function stranger(port: number): Promise<{ closedEarly: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let sent = 0;
    let over = false;
    const finish = (closedEarly: boolean): void => {
      if (over) return;
      over = true;
      s.destroy();
      resolve({ closedEarly });
    };
    const chunk = Buffer.alloc(256 * 1024, 0xa5);
    const pump = (): void => {
      while (!over && sent < GARBAGE_BYTES) {
        const n = Math.min(chunk.length, GARBAGE_BYTES - sent);
        sent += n;
        if (!s.write(chunk.subarray(0, n))) {
          s.once('drain', pump);
          return;
        }
      }
      // all sent: hold the connection (a frame that never completes) until the secondary closes it
      if (!over) setTimeout(() => finish(false), HOLD_MS).unref();
    };
    s.on('connect', () => {
      s.write(RawPeer.header(MSG.LINK, 1, CLAIMED_BYTES));
      pump();
    });
    s.on('data', () => undefined);
    s.on('error', () => finish(true));
    s.on('close', () => finish(true));
  });
}

describe('security: pre-authentication bounds of a real secondary process', function () {
  this.timeout(180_000);
  let t: ReturnType<typeof tmpDir>;
  let pair: ProcessPair | null = null;

  afterEach(async () => {
    await pair?.killAll();
    pair = null;
    t.cleanup();
  });

  it(`${CONNECTIONS} connections announcing 4 MiB frames and sending the garbage: peak RSS stays bounded, the pair still forms`, async () => {
    t = tmpDir('lsa-sec-rss-');
    const p = await ProcessPair.create(t.dir, { mode: 'sync' });
    pair = p;
    const s = await p.startSecondary();
    const pid = s.child.pid!;
    const before = peakRssBytes(pid);
    const results = await Promise.all(Array.from({ length: CONNECTIONS }, () => stranger(p.replicaPort)));
    await new Promise((r) => setTimeout(r, 500));
    const after = peakRssBytes(pid);
    const growth = after - before;
    const closedEarly = results.filter((r) => r.closedEarly).length;
    console.log(`      peak RSS ${Math.round(before / 1048576)} MiB -> ${Math.round(after / 1048576)} MiB (+${(growth / 1048576).toFixed(1)} MiB; ${CONNECTIONS} x ${CLAIMED_BYTES / 1048576} MiB offered); ${closedEarly} of ${CONNECTIONS} cut off early`);
    expect(growth, 'peak RSS growth').to.be.below(RSS_GROWTH_MAX_BYTES);
    expect(closedEarly, 'the secondary cut them off instead of reading their garbage').to.equal(CONNECTIONS);
    expect(s.log).to.match(/before authentication is over the 4096-byte limit/);
    expect(s.log).to.match(new RegExp(`connections refused: too many handshakes in progress.*handshakesMax=${HANDSHAKES_MAX}`));
    await p.startPrimary();
    await p.waitDuplex();
  });
});
