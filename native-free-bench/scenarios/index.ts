// The scenario registry. To add a scenario, write scenarios/<name>.ts with defineScenario (see
// seq-write.ts for a small one and README.md for the checklist) and add it to this list; the
// list's order is the order `npm run bench` runs them in.

import type { Scenario } from '../harness/scenario';
import { compress } from './compress';
import { degraded } from './degraded';
import { gc } from './gc';
import { nbd } from './nbd';
import { open } from './open';
import { randWrite } from './rand-write';
import { recovery } from './recovery';
import { replication } from './replication';
import { seqWrite } from './seq-write';
import { snapshot } from './snapshot';

export const SCENARIOS: readonly Scenario[] = [
  seqWrite,
  randWrite,
  open,
  recovery,
  degraded,
  nbd,
  replication,
  gc,
  snapshot,
  compress,
];

// names are command-line words and file names: kebab-case, and unique
const seen = new Set<string>();
for (const s of SCENARIOS) {
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(s.name) || seen.has(s.name)) throw new Error(`scenario name "${s.name}" is not kebab-case or is taken twice`);
  seen.add(s.name);
}

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
