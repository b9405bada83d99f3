// docs/ERRORS.md is what users read to interpret an exit status, an NBD errno or an HTTP status:
// every row must say what the code does (exitCodeOf, nbdErrnoOf, httpStatusOf), and every code
// of the taxonomy must have a row. (Before this test the table said EINVAL for LSA_NOT_FOUND
// and LSA_ALREADY_EXISTS, where the NBD server answers EIO.)

import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorCodes, errorFromCode, exitCodeOf, httpStatusOf } from '../../src/errors';
import { nbdErrnoOf } from '../../src/nbd/errno';
import * as constants from '../../src/nbd/constants';

const DOC = path.resolve(__dirname, '../../../docs/ERRORS.md');

interface Row {
  code: string;
  exit: number;
  nbd: string;
  http: number;
}

function readTable(): Row[] {
  const rows: Row[] = [];
  for (const line of fs.readFileSync(DOC, 'utf8').split('\n')) {
    if (!line.startsWith('| `LSA_')) continue;
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    const code = /^`(LSA_[A-Z_]+)`$/.exec(cells[0])?.[1];
    const [exit, nbd, http] = cells.slice(-3);
    expect(code, `row ${line}`).to.be.a('string');
    rows.push({ code: code!, exit: Number(exit), nbd: nbd.split(' ')[0], http: Number(http) });
  }
  return rows;
}

function errnoByName(name: string): number {
  const v = (constants as Record<string, unknown>)[`NBD_${name}`];
  expect(v, `NBD errno ${name} is not in src/nbd/constants.ts`).to.be.a('number');
  return v as number;
}

describe('security: docs/ERRORS.md matches the code', () => {
  it('every row gives the exit status, NBD errno and HTTP status the code gives, and every code has a row', () => {
    const rows = readTable();
    expect(rows.length).to.be.greaterThan(10);
    for (const r of rows) {
      const err = errorFromCode(r.code, 'x');
      expect(err.code, `${r.code} is rebuilt by errorFromCode (add its class to CLASS_OF_CODE in src/errors.ts)`).to.equal(r.code);
      expect(exitCodeOf(err), `${r.code}: exit status`).to.equal(r.exit);
      expect(nbdErrnoOf(err), `${r.code}: NBD errno ${r.nbd}`).to.equal(errnoByName(r.nbd));
      expect(httpStatusOf(err), `${r.code}: HTTP status`).to.equal(r.http);
    }
    expect(rows.map((r) => r.code).sort(), 'codes in docs/ERRORS.md vs src/errors.ts').to.deep.equal(errorCodes().sort());
  });
});
