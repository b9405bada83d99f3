// The pair in the simulation: two arrays on simulated disks, the link over the in-memory
// network, one scheduler, one seed. Link cuts, corrupted bytes and stalls longer than the link
// timeout under host writes; after each the pair comes back to duplex by itself and the
// volumes are equal. The same seed twice gives the same trace (printed, with the command that
// replays it); the TCP version of this test stays in in-process.test.ts.

import { expect } from 'chai';
import { sleep } from '../../src/io/timers';
import { checkArray } from '../../src/lsa/check';
import { SIM_LINK_TIMEOUT_MS, SimPair } from '../../src/testing/sim-pair';
import type { ReplicationMode } from '../../src/replication/primary';
import { silentLogger, type Logger } from '../../src/util/log';
import { seedFrom, tmpDir } from '../support/tmp';

const CAPACITY = 2 * 1024 * 1024;
const FAULTS = ['cut', 'corrupt', 'stall'] as const;

interface Outcome {
  hash: string;
  events: number;
  simulatedMs: number;
  reasons: string[];
}

function recordingLog(lines: string[]): Logger {
  const keep = (m: string, f?: Record<string, unknown>): void => {
    lines.push(`${m} ${JSON.stringify(f ?? {})}`);
  };
  const log: Logger = { ...silentLogger, info: keep, warn: keep, error: keep, child: () => log };
  return log;
}

async function faultRounds(seed: number, mode: ReplicationMode, tls: boolean, rounds: number): Promise<Outcome> {
  const t = tmpDir();
  const lines: string[] = [];
  try {
    const pair = await SimPair.create({ seed, root: t.dir, mode, tls, capacityBytes: CAPACITY, log: recordingLog(lines) });
    const { sched, net, rng } = pair;
    await pair.waitDuplex();
    for (let round = 0; round < rounds; round++) {
      const fault = FAULTS[round % FAULTS.length];
      const writes = pair.hostWrites(150);
      writes.catch(() => undefined); // awaited below
      await pair.drive(sleep(sched, rng.range(1, 30)));
      sched.trace(`test fault ${fault}`);
      if (fault === 'cut') net.cut();
      else if (fault === 'corrupt') net.corruptNext();
      else {
        net.stall(true);
        // longer than the link timeout plus the watchdog's tick, so the primary gives up
        await pair.drive(sleep(sched, SIM_LINK_TIMEOUT_MS + 1000 + rng.int(500)));
        net.stall(false);
      }
      await pair.drive(writes);
      await pair.waitDuplex();
      expect(await pair.firstDifference(), `seed ${seed} round ${round} (${fault})`).to.equal(-1);
    }
    expect((await pair.drive(checkArray(pair.secondary))).problems, `seed ${seed}`).to.deep.equal([]);
    expect((await pair.drive(checkArray(pair.primary))).problems, `seed ${seed}`).to.deep.equal([]);
    const outcome = { hash: sched.traceHash, events: sched.eventsRun, simulatedMs: sched.elapsedMs, reasons: lines };
    await pair.close();
    return outcome;
  } finally {
    t.cleanup();
  }
}

describe('replication in the simulation (in-memory network, simulated disks and clock)', function () {
  this.timeout(300_000);

  for (const [mode, tls] of [['sync', true], ['async', false], ['sync', false], ['async', true]] as const) {
    it(`${mode}, TLS ${tls ? 'on' : 'off'}: link cuts, corrupted bytes and stalls: back to duplex by itself, volumes equal; one seed, one trace`, async () => {
      const seed = seedFrom(1511 + (mode === 'sync' ? 0 : 1) + (tls ? 0 : 2));
      const first = await faultRounds(seed, mode, tls, 6);
      console.log(`      seed ${seed}: trace ${first.hash}, ${first.events} events, ${Math.round(first.simulatedMs)} simulated ms (replay: LSA_SEED=${seed} node dist/test/support/run-tests.js sim-link)`);
      const log = first.reasons.join('\n');
      expect(log, 'the cut was seen').to.match(/network cut/);
      // TLS: the record MAC fails; plain: the frame checks catch it
      if (tls) expect(log, 'the corrupted byte broke the TLS stream').to.match(/integrity check/);
      else expect(log, 'the corrupted byte was caught').to.match(/CRC mismatch|bad frame magic|frame number|over the|replication protocol version/);
      expect(log, 'the stall was given up').to.match(/sent nothing for|acknowledged no update for/);
      const second = await faultRounds(seed, mode, tls, 6);
      expect(second.hash, `seed ${seed}: a second run took another path`).to.equal(first.hash);
      expect(second.events).to.equal(first.events);
    });
  }
});
