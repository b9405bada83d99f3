import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A fresh folder under the OS temp dir, removed by the returned function. */
export function tmpDir(prefix = 'lsa-test-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Seed from LSA_SEED if set (to replay a failure), else the given default. */
export function seedFrom(defaultSeed: number): number {
  const env = process.env.LSA_SEED;
  return env ? Number(env) : defaultSeed;
}
