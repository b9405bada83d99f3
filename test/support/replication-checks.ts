// Checks shared by the remote-copy process tests and the campaign: while both run, the
// primary holds every acknowledged write (crash model) and the secondary's export equals the
// primary's once the pair is duplex; after a clean stop of both, `lsa read` of each array
// gives the same bytes.

import { expect } from 'chai';
import { NbdTestClient } from './nbd-client';
import { PAIR_VOLUME_BYTES, type ProcessPair } from './replication-pair';
import { firstDifference, readExport, type PairWriter } from './replication-writer';

/** Audits the primary against the model. `crashed`: the primary was killed since the last
 * audit, so each track may hold its flushed content or anything written since; otherwise
 * every acknowledged write must be there exactly. */
export async function auditPrimary(writer: PairWriter, crashed: boolean, what: string): Promise<void> {
  if (!crashed) {
    const have = await readExport(writer.client!, 0, writer.sizeBytes);
    const d = firstDifference(have, writer.model.current.bytes);
    expect(d, `${what}: the primary lost an acknowledged write at byte ${d}`).to.equal(-1);
  }
  const r = await writer.model.audit(writer.reader);
  expect(r.lost + r.corrupt, `${what}: ${r.problems.join('; ')}`).to.equal(0);
}

/** Waits for duplex, then compares the secondary's export with the primary's, byte for byte. */
export async function expectMirrored(pair: ProcessPair, writer: PairWriter, what: string): Promise<void> {
  await pair.waitDuplex();
  const sec = await NbdTestClient.open(pair.secondary!.port, { exportName: 'vol0' });
  try {
    const a = await readExport(writer.client!, 0, writer.sizeBytes);
    const b = await readExport(sec, 0, writer.sizeBytes);
    const d = firstDifference(a, b);
    expect(d, `${what}: the secondary differs from the primary at byte ${d}`).to.equal(-1);
  } finally {
    sec.socket.destroy();
  }
}

/** Stops both cleanly and compares `lsa read` of both arrays with each other and the model. */
export async function expectEqualAfterStop(pair: ProcessPair, writer: PairWriter | null, what: string, bytes = PAIR_VOLUME_BYTES): Promise<void> {
  writer?.drop();
  await pair.stopBoth();
  const a = await pair.readVolume(pair.pDir, 'vol0', bytes);
  const b = await pair.readVolume(pair.sDir, 'vol0', bytes);
  const d = firstDifference(a, b);
  expect(d, `${what}: after a clean stop the secondary differs from the primary at byte ${d}`).to.equal(-1);
  if (writer) {
    const m = firstDifference(a, writer.model.current.bytes);
    expect(m, `${what}: after a clean stop the primary lost an acknowledged write at byte ${m}`).to.equal(-1);
  }
}
