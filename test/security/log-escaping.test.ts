// A value a client chooses (an export name, a URL path, a header) goes into log lines; it must
// not be able to start a line of its own (a forged "error" line) or send escape sequences to
// the operator's terminal. Text and JSON logs escape control characters; the line stays one
// line and, in JSON, valid JSON.

import { expect } from 'chai';
import { createLogger, escapeControl } from '../../src/util/log';

function capture(format: 'text' | 'json'): { lines: () => string[]; log: ReturnType<typeof createLogger> } {
  let out = '';
  const stream = { write: (s: string): boolean => ((out += s), true) } as unknown as NodeJS.WritableStream;
  return { lines: () => out.split('\n').filter(Boolean), log: createLogger('nbd', { format, stream }) };
}

const HOSTILE = 'vol0\n2026-11-26T00:00:00.000Z error lsa: forged line\r\x1b[2J\x1b]0;owned\x07\x7f\u009b31m\u2028end';

describe('security: log lines escape control characters', () => {
  it('text: one line, no control bytes, the escapes readable', () => {
    const c = capture('text');
    c.log.info(`client asked for ${HOSTILE}`, { export: HOSTILE, 'key\nx': 1, nested: { name: HOSTILE } });
    const lines = c.lines();
    expect(lines.length, lines.join('\n---\n')).to.equal(1);
    expect(lines[0]).to.not.match(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
    expect(lines[0]).to.contain('export=vol0\\n2026-11-26T00:00:00.000Z error lsa: forged line\\r\\u001b[2J\\u001b]0;owned\\u0007\\u007f\\u009b31m\\u2028end');
    expect(lines[0]).to.contain('key\\nx=1');
  });

  it('json: one line of valid JSON that reads back as the original value', () => {
    const c = capture('json');
    c.log.warn('refused', { export: HOSTILE });
    const lines = c.lines();
    expect(lines.length).to.equal(1);
    expect(lines[0]).to.not.match(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
    expect((JSON.parse(lines[0]) as { export: string }).export).to.equal(HOSTILE);
  });

  it('plain text is left alone', () => {
    expect(escapeControl('vol0 127.0.0.1:5000 é ü 漢字 "q" \\ ok')).to.equal('vol0 127.0.0.1:5000 é ü 漢字 "q" \\ ok');
  });
});
