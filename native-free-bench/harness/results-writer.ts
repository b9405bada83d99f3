// Writes results/<scenario>.json and results/<scenario>.svg, each through a temporary file and
// a rename, so an interrupted run never leaves half a file.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResultRecord } from './result-record';

function writeAtomically(file: string, content: string): void {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}

export function writeResults(outDir: string, record: ResultRecord, svg: string): { json: string; svg: string } {
  fs.mkdirSync(outDir, { recursive: true });
  const json = path.join(outDir, `${record.scenario}.json`);
  const svgFile = path.join(outDir, `${record.scenario}.svg`);
  writeAtomically(json, JSON.stringify(record, null, 2) + '\n');
  writeAtomically(svgFile, svg);
  return { json, svg: svgFile };
}
