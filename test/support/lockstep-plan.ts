// The lock-step workload of the snapshot process tests. A seeded plan of numbered operations
// (generations), each on a few consecutive blocks (tracks) of one of the volumes, run strictly
// one after another by a separate writer process (lockstep-writer.ts) over NBD. Because each
// op completes before the next starts, a snapshot taken at any barrier shows exactly the
// first k ops of the plan for some k: checkPrefix finds that k, or says why there is none.
//
// Block content of a write: 16-byte header (magic, generation, volume index, block), then a
// pattern derived from the three; a block never written or trimmed is all zeros.

import { Prng } from '../../src/util/prng';

export const BLOCK_BYTES = 4096;
const MAGIC = 0x4c4b5350; // "LKSP"

export interface LockstepOp {
  /** Position in the plan, from 0. */
  index: number;
  /** Generation: ops of one group share it (the vol0 op names the vol1 op that follows). */
  gen: number;
  volume: number;
  block: number;
  count: number;
  kind: 'write' | 'trim';
}

export interface PlanOptions {
  seed: number;
  blocks: number;
  /** 'single': random ops on volume 0; 'group': each generation writes volume 0, then volume 1. */
  shape: 'single' | 'group';
}

/** The first `n` ops of the plan (the same for the writer and the checker). */
export function planOps(o: PlanOptions, n: number): LockstepOp[] {
  const rng = new Prng(o.seed);
  const ops: LockstepOp[] = [];
  for (let gen = 1; ops.length < n; gen++) {
    if (o.shape === 'single') {
      const count = rng.range(1, 4);
      const block = rng.int(o.blocks - count + 1);
      ops.push({ index: ops.length, gen, volume: 0, block, count, kind: rng.chance(0.1) ? 'trim' : 'write' });
    } else {
      const a = rng.int(o.blocks);
      const b = rng.int(o.blocks);
      ops.push({ index: ops.length, gen, volume: 0, block: a, count: 1, kind: 'write' });
      if (ops.length < n) ops.push({ index: ops.length, gen, volume: 1, block: b, count: 1, kind: 'write' });
    }
  }
  return ops;
}

export function blockContent(gen: number, volume: number, block: number): Buffer {
  const b = Buffer.alloc(BLOCK_BYTES);
  b.writeUInt32LE(MAGIC, 0);
  b.writeUInt32LE(gen, 4);
  b.writeUInt32LE(volume, 8);
  b.writeUInt32LE(block, 12);
  let x = (gen * 2654435761 + volume * 40503 + block * 97) >>> 0;
  for (let i = 16; i < BLOCK_BYTES; i += 4) {
    x = (x * 1103515245 + 12345) >>> 0;
    b.writeUInt32LE(x, i);
  }
  return b;
}

/** The bytes an op writes (count blocks). */
export function opData(op: LockstepOp): Buffer {
  return Buffer.concat(Array.from({ length: op.count }, (_, i) => blockContent(op.gen, op.volume, op.block + i)));
}

/** Generation each block shows in an image (0: zeros); throws on a block that is neither
 * zeros nor exactly what some write of this plan put there (torn or foreign bytes). */
export function readGenerations(image: Buffer, volume: number, blocks: number): number[] {
  const zero = Buffer.alloc(BLOCK_BYTES);
  const out: number[] = [];
  for (let b = 0; b < blocks; b++) {
    const blk = image.subarray(b * BLOCK_BYTES, (b + 1) * BLOCK_BYTES);
    if (blk.equals(zero)) {
      out.push(0);
      continue;
    }
    const gen = blk.readUInt32LE(4);
    if (blk.readUInt32LE(0) !== MAGIC || !blk.equals(blockContent(gen, volume, b))) {
      throw new Error(`volume ${volume} block ${b}: bytes that no write of the plan produced (torn or misplaced data)`);
    }
    out.push(gen);
  }
  return out;
}

/**
 * The prefix lengths k (ops 0..k-1 applied, none after) that give exactly the observed
 * generations of every volume. Replays the plan once, keeping a count of blocks that differ.
 */
export function matchingPrefixes(ops: LockstepOp[], observed: number[][]): number[] {
  const state = observed.map((g) => g.map(() => 0));
  let mismatched = 0;
  for (const g of observed) for (const x of g) if (x !== 0) mismatched++;
  const out: number[] = mismatched === 0 ? [0] : [];
  for (const op of ops) {
    for (let i = 0; i < op.count; i++) {
      const b = op.block + i;
      const before = state[op.volume][b] === observed[op.volume][b];
      state[op.volume][b] = op.kind === 'write' ? op.gen : 0;
      const after = state[op.volume][b] === observed[op.volume][b];
      if (before && !after) mismatched++;
      if (!before && after) mismatched--;
    }
    if (mismatched === 0) out.push(op.index + 1);
  }
  return out;
}
