// `lsa inspect --svg FILE`: a well-formed SVG with exactly one cell per data segment, each
// carrying its segment's parity disk, the open segments marked, a legend and a title.

import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Layout } from '../../src/array/geometry';
import type { ArrayDescription } from '../../src/cli/inspect/describe-array';
import { xmlProblem } from '../bench/xml-well-formed';
import { lsaJson, runLsa } from '../support/cli-capture';
import { INSPECT_GEOMETRY, makeInspectArray } from '../support/inspect-array';
import { tmpDir } from '../support/tmp';

function attrs(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([\w:-]+)="([^"]*)"/g)) out[m[1]] = m[2];
  return out;
}

describe('lsa inspect --svg', function () {
  this.timeout(60_000);
  let t: ReturnType<typeof tmpDir>;

  before(async () => {
    t = tmpDir('lsa-inspect-svg-');
    await makeInspectArray(path.join(t.dir, 'a&b')); // a name that needs escaping in XML
  });

  after(() => t.cleanup());

  it('draws one cell per data segment, with its parity disk, open segments marked', async () => {
    const dir = path.join(t.dir, 'a&b');
    const file = path.join(t.dir, 'array.svg');
    const r = await runLsa(['inspect', '--dir', dir, '--svg', file]);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.contain(`wrote ${file}`);
    const svg = fs.readFileSync(file, 'utf8');
    expect(xmlProblem(svg)).to.equal(null);
    expect(svg).to.match(/^<\?xml[^>]*>\s*<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);

    const layout = new Layout(INSPECT_GEOMETRY);
    const cells = [...svg.matchAll(/<rect class="segment [^"]*"[^>]*>/g)].map((m) => attrs(m[0]));
    expect(cells.length).to.equal(layout.dataSegments);
    expect(cells.map((c) => Number(c['data-segment']))).to.deep.equal(Array.from({ length: layout.dataSegments }, (_, i) => i + 1));
    for (const c of cells) expect(Number(c['data-parity-disk'])).to.equal(layout.parityDisk(Number(c['data-segment'])));
    expect([...svg.matchAll(/class="parity-mark"/g)].length).to.equal(layout.dataSegments);

    const info = await lsaJson<ArrayDescription>(['inspect', '--dir', dir]);
    const open = cells.filter((c) => c.class === 'segment open').map((c) => Number(c['data-segment']));
    expect(open).to.deep.equal(info.openSegments);
    expect(open.length).to.be.greaterThan(0);
    const free = cells.filter((c) => c.class === 'segment free');
    expect(free.length).to.equal(info.segmentCounts.free);
    for (const s of info.segments.filter((x) => x.state !== 'free')) {
      const c = cells.find((x) => Number(x['data-segment']) === s.index)!;
      expect(Number(c['data-utilization'])).to.be.closeTo(s.utilization, 1e-4);
    }
    expect(svg).to.contain('class="legend"');
    expect(svg).to.contain(`lsa array ${dir.replace('&', '&amp;')}: 4 disks (3 data + 1 rotating parity) x 4MiB, columns 64KiB, tracks 4KiB`);
  });

  it('--svg does not combine with another view or --watch', async () => {
    const dir = path.join(t.dir, 'a&b');
    for (const extra of [['--segment', '1'], ['--watch']]) {
      const r = await runLsa(['inspect', '--dir', dir, '--svg', path.join(t.dir, 'x.svg'), ...extra]);
      expect(r.code).to.equal(64);
      expect(r.err).to.match(/--svg/);
    }
  });
});
