// The test command: runs every compiled test file with mocha and ends with one plain line,
// "N passed, N failed", which is what CI reads. Arguments narrow the run to files whose path
// contains one of them (npm test -- differential).

import Mocha from 'mocha';
import * as fs from 'node:fs';
import * as path from 'node:path';

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findTests(p));
    else if (entry.name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

function main(): void {
  const root = path.resolve(__dirname, '..');
  const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const files = findTests(root).filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
  const mocha = new Mocha({ timeout: 120_000, reporter: 'spec', color: process.stdout.isTTY });
  for (const f of files) mocha.addFile(f);
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const runner = mocha.run((failures) => {
    // mocha counts a failing hook once; make sure it is never lost from the count
    if (failures > failed) failed = failures;
    console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
    process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
  });
  runner.on('pass', () => passed++);
  runner.on('fail', () => failed++);
  runner.on('pending', () => skipped++);
}

main();
