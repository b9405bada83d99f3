// A bar panel: one bar per measured thing (median over the runs) with a min..max whisker, and
// dashed reference lines for targets.

import { linearTicks } from './axis';
import { plotArea, type Box } from './box';
import { LINE_COLOR, ROLE_COLORS, type BarPanel } from './panel';
import { el, formatTick, formatValue, line, text } from './svg';

export function renderBarPanel(p: BarPanel, box: Box): string {
  const area = plotArea(box);
  const lines = p.lines ?? [];
  const top = Math.max(...p.bars.map((b) => b.max), ...lines.map((l) => l.value), 0) * 1.12;
  const ticks = linearTicks(top);
  const yMax = ticks[ticks.length - 1];
  const y = (v: number): number => area.y + area.h - (v / yMax) * area.h;
  const parts: string[] = [text(box.x + box.w / 2, box.y + 16, `${p.title} (${p.unit})`, { 'text-anchor': 'middle', 'font-size': 13, 'font-weight': 'bold' })];
  for (const t of ticks) {
    parts.push(line(area.x, y(t), area.x + area.w, y(t), { stroke: '#e2e8f0' }));
    parts.push(text(area.x - 6, y(t) + 4, formatTick(t), { 'text-anchor': 'end' }));
  }
  parts.push(line(area.x, area.y, area.x, area.y + area.h));
  parts.push(line(area.x, area.y + area.h, area.x + area.w, area.y + area.h));
  const slot = area.w / Math.max(1, p.bars.length);
  const barW = Math.min(64, slot * 0.6);
  p.bars.forEach((b, i) => {
    const cx = area.x + slot * (i + 0.5);
    parts.push(el('rect', { x: cx - barW / 2, y: y(b.median), width: barW, height: Math.max(0, area.y + area.h - y(b.median)), fill: ROLE_COLORS[b.role] }));
    parts.push(line(cx, y(b.min), cx, y(b.max), { stroke: '#1a202c', 'stroke-width': 1.5 }));
    parts.push(line(cx - 8, y(b.min), cx + 8, y(b.min), { stroke: '#1a202c', 'stroke-width': 1.5 }));
    parts.push(line(cx - 8, y(b.max), cx + 8, y(b.max), { stroke: '#1a202c', 'stroke-width': 1.5 }));
    parts.push(text(cx + barW / 2 + 3, y(b.median) + 4, formatValue(b.median), { 'font-size': 10 }));
    parts.push(text(cx, area.y + area.h + 16, b.label, { 'text-anchor': 'middle' }));
    parts.push(text(cx, area.y + area.h + 30, b.role, { 'text-anchor': 'middle', 'font-size': 9, fill: '#718096' }));
  });
  for (const l of lines) {
    parts.push(line(area.x, y(l.value), area.x + area.w, y(l.value), { stroke: LINE_COLOR, 'stroke-dasharray': '5 3' }));
    parts.push(text(area.x + area.w - 2, y(l.value) - 3, `${l.label} ${formatValue(l.value)}`, { 'text-anchor': 'end', 'font-size': 10, fill: LINE_COLOR }));
  }
  return el('g', {}, parts.join(''));
}
