// Pair states of one volume on the primary. The only transitions:
//
//   simplex --secondary configured--> duplex-pending --initial copy done--> duplex
//   duplex --link lost / secondary down / lag bound hit--> suspended
//   duplex-pending --link lost--> suspended
//   resync --link lost--> suspended
//   suspended --link back--> resync --out-of-sync tracks shipped and applied--> duplex
//   (suspended --link back, nothing ever copied--> duplex-pending)
//
// While suspended the primary keeps serving; the out-of-sync tracks are exactly those whose
// write sequence (in the durable directory) is above what the secondary has applied, so the
// record of them survives a primary restart with no extra bookkeeping.

import { assert } from '../errors';

export type PairState = 'simplex' | 'duplex-pending' | 'duplex' | 'suspended' | 'resync';

const NEXT: Record<PairState, PairState[]> = {
  simplex: ['duplex-pending', 'resync', 'suspended'],
  'duplex-pending': ['duplex', 'suspended'],
  duplex: ['suspended', 'resync'],
  suspended: ['resync', 'duplex-pending', 'suspended'],
  resync: ['duplex', 'suspended', 'resync'],
};

export function assertPairTransition(volume: string, from: PairState, to: PairState): void {
  assert(NEXT[from].includes(to), `pair ${volume}: ${from} -> ${to} is not a legal transition`);
}
