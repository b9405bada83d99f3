// A CDF panel: for each series, the fraction of samples at or below a latency, on a log scale
// of latency, so the median and the tail of two systems can be read off the same chart.

import { decadeTicks } from './axis';
import { plotArea, type Box } from './box';
import { ROLE_COLORS, type CdfPanel } from './panel';
import { el, formatTick, line, text } from './svg';

const Y_TICKS = [0, 0.25, 0.5, 0.75, 0.9, 1];

export function renderCdfPanel(p: CdfPanel, box: Box): string {
  const area = plotArea(box);
  const all = p.series.flatMap((s) => s.quantiles).filter((v) => v > 0 && Number.isFinite(v));
  const lo = all.length ? Math.min(...all) : 0.001;
  const hi = all.length ? Math.max(...all) : 1;
  const ticks = decadeTicks(lo, hi);
  const xLo = Math.log10(ticks[0]);
  const xHi = Math.log10(ticks[ticks.length - 1]);
  const x = (v: number): number => area.x + ((Math.log10(Math.max(v, ticks[0])) - xLo) / (xHi - xLo)) * area.w;
  const y = (q: number): number => area.y + area.h - q * area.h;
  const parts: string[] = [text(box.x + box.w / 2, box.y + 16, `${p.title} (${p.unit}, log scale) vs fraction`, { 'text-anchor': 'middle', 'font-size': 13, 'font-weight': 'bold' })];
  for (const t of ticks) {
    parts.push(line(x(t), area.y, x(t), area.y + area.h, { stroke: '#e2e8f0' }));
    parts.push(text(x(t), area.y + area.h + 14, formatTick(t), { 'text-anchor': 'middle' }));
  }
  for (const q of Y_TICKS) {
    parts.push(line(area.x, y(q), area.x + area.w, y(q), { stroke: '#e2e8f0' }));
    parts.push(text(area.x - 6, y(q) + 4, String(q), { 'text-anchor': 'end' }));
  }
  parts.push(line(area.x, area.y, area.x, area.y + area.h));
  parts.push(line(area.x, area.y + area.h, area.x + area.w, area.y + area.h));
  p.series.forEach((s, i) => {
    const n = s.quantiles.length;
    const points = s.quantiles.map((v, k) => `${x(v).toFixed(2)},${y(n > 1 ? k / (n - 1) : 1).toFixed(2)}`).join(' ');
    parts.push(el('polyline', { points, fill: 'none', stroke: ROLE_COLORS[s.role], 'stroke-width': 2 }));
    // legend under the x axis, one entry per series side by side (the title names the axis)
    const ly = area.y + area.h + 32;
    const lx = area.x + i * (area.w / p.series.length);
    parts.push(line(lx, ly - 4, lx + 18, ly - 4, { stroke: ROLE_COLORS[s.role], 'stroke-width': 2 }));
    parts.push(text(lx + 22, ly, `${s.label} (${s.role})`, { 'font-size': 10 }));
  });
  return el('g', {}, parts.join(''));
}
