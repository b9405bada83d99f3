// The checker of the snapshot process tests must itself catch what it is there to catch: a
// snapshot that is no prefix of the writes (out of order, a group's second volume ahead), and
// bytes no write produced. Also the small parsers the snapshot commands use.

import { expect } from 'chai';
import { diffDirectories } from '../../src/snapshot/snapshot-diff';
import { VolumeDirectory } from '../../src/lsa/directory';
import { RECORD_FLAG_TRIM } from '../../src/lsa/record-format';
import { parseDurationMs } from '../../src/util/duration';
import { BLOCK_BYTES, blockContent, matchingPrefixes, planOps, readGenerations, type LockstepOp } from '../support/lockstep-plan';

const BLOCKS = 16;

function imageAfter(ops: LockstepOp[], volume: number): Buffer {
  const img = Buffer.alloc(BLOCKS * BLOCK_BYTES);
  for (const op of ops) {
    if (op.volume !== volume) continue;
    for (let i = 0; i < op.count; i++) {
      const b = op.block + i;
      if (op.kind === 'write') blockContent(op.gen, volume, b).copy(img, b * BLOCK_BYTES);
      else img.fill(0, b * BLOCK_BYTES, (b + 1) * BLOCK_BYTES);
    }
  }
  return img;
}

describe('lock-step snapshot checker', () => {
  it('finds the prefix a consistent image shows', () => {
    const ops = planOps({ seed: 5, blocks: BLOCKS, shape: 'single' }, 60);
    for (const k of [0, 1, 17, 60]) {
      const observed = [readGenerations(imageAfter(ops.slice(0, k), 0), 0, BLOCKS)];
      expect(matchingPrefixes(ops, observed)).to.include(k);
    }
  });

  it('rejects an image that shows a later write without an earlier one', () => {
    const ops = planOps({ seed: 6, blocks: BLOCKS, shape: 'single' }, 40).filter((o) => o.kind === 'write');
    // op j is missing although op j+1 (on another block) is there
    const j = ops.findIndex((o, i) => i > 5 && ops[i + 1] && ops[i + 1].block !== o.block && !ops.slice(i + 1).some((x) => x.block <= o.block + o.count - 1 && x.block + x.count - 1 >= o.block));
    expect(j).to.be.greaterThan(0);
    const img = imageAfter([...ops.slice(0, j), ...ops.slice(j + 1)], 0);
    expect(matchingPrefixes(ops, [readGenerations(img, 0, BLOCKS)])).to.deep.equal([]);
  });

  it('rejects a group image whose second volume is ahead of the first', () => {
    const ops = planOps({ seed: 7, blocks: BLOCKS, shape: 'group' }, 40);
    const v0 = imageAfter(ops.slice(0, 20), 0);
    const v1 = imageAfter(ops.slice(0, 24), 1);
    expect(matchingPrefixes(ops, [readGenerations(v0, 0, BLOCKS), readGenerations(v1, 1, BLOCKS)])).to.deep.equal([]);
  });

  it('throws on a block no write produced (torn)', () => {
    const ops = planOps({ seed: 8, blocks: BLOCKS, shape: 'single' }, 30).filter((o) => o.kind === 'write');
    const img = imageAfter(ops, 0);
    const b = ops[ops.length - 1].block;
    img.fill(0, b * BLOCK_BYTES + 2048, (b + 1) * BLOCK_BYTES);
    expect(() => readGenerations(img, 0, BLOCKS)).to.throw(/bytes that no write of the plan produced/);
  });
});

describe('snapshot helpers', () => {
  it('parseDurationMs reads 500ms, 30s, 2m, 1.5s and refuses a bare number', () => {
    expect(parseDurationMs('500ms')).to.equal(500);
    expect(parseDurationMs('30s')).to.equal(30_000);
    expect(parseDurationMs('2m')).to.equal(120_000);
    expect(parseDurationMs('1.5s')).to.equal(1500);
    expect(() => parseDurationMs('30', '--timeout')).to.throw(/--timeout: cannot read "30" as a duration/);
    expect(() => parseDurationMs('0s')).to.throw(/more than zero/);
  });

  it('diffDirectories: holes equal holes, a moved record is the same record, runs merge, the tail is clipped', () => {
    const a = new VolumeDirectory(8);
    const b = new VolumeDirectory(8);
    const data = (seq: number, segment: number) => ({ segment, slot: 64, recordBytes: 4144, payloadCrc: seq * 7, flags: 0, payloadBytes: 4096, seq });
    a.set(0, data(10, 3));
    b.set(0, data(10, 9)); // moved by the collector: same record
    b.set(1, { segment: 4, slot: 0, recordBytes: 48, payloadCrc: 0, flags: RECORD_FLAG_TRIM, payloadBytes: 0, seq: 11 }); // trimmed vs never written
    a.set(2, data(12, 3));
    b.set(2, data(13, 3));
    b.set(3, data(14, 3));
    b.set(7, data(15, 3));
    expect(diffDirectories(a, b, 4096, 7 * 4096 + 512)).to.deep.equal([{ offset: 8192, length: 8192 }, { offset: 7 * 4096, length: 512 }]);
  });
});
