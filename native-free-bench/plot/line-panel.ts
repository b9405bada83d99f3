// A line panel: y against x for several series (measured lines with point markers, reference
// curves dashed), with the legend in the top-left corner of the plot area, where curves that
// rise with x (write amplification against utilization) leave room.

import { linearTicks } from './axis';
import { plotArea, type Box } from './box';
import type { LinePanel } from './panel';
import { el, formatTick, line, text } from './svg';

const LEGEND_ROW_PX = 12;
const MARKER_RADIUS_PX = 2.5;

export function renderLinePanel(p: LinePanel, box: Box): string {
  const area = plotArea(box);
  const xs = p.series.flatMap((s) => s.points.map((pt) => pt.x));
  const ys = p.series.flatMap((s) => s.points.map((pt) => pt.y)).filter(Number.isFinite);
  const xLo = xs.length ? Math.min(...xs) : 0;
  const xHi = xs.length && Math.max(...xs) > xLo ? Math.max(...xs) : xLo + 1;
  const yTicks = linearTicks((ys.length ? Math.max(...ys) : 1) * 1.08);
  const yMax = yTicks[yTicks.length - 1];
  const x = (v: number): number => area.x + ((v - xLo) / (xHi - xLo)) * area.w;
  const y = (v: number): number => area.y + area.h - (Math.min(v, yMax) / yMax) * area.h;
  // ticks where something was measured (the x values are few and chosen), else evenly spaced
  const measured = [...new Set(p.series.filter((s) => !s.reference).flatMap((s) => s.points.map((pt) => pt.x)))].sort((a, b) => a - b);
  const xTicks = measured.length > 0 ? measured : [xLo, xHi];
  const parts: string[] = [text(box.x + box.w / 2, box.y + 16, `${p.title} (${p.unit})`, { 'text-anchor': 'middle', 'font-size': 13, 'font-weight': 'bold' })];
  for (const t of yTicks) {
    parts.push(line(area.x, y(t), area.x + area.w, y(t), { stroke: '#e2e8f0' }));
    parts.push(text(area.x - 6, y(t) + 4, formatTick(t), { 'text-anchor': 'end' }));
  }
  for (const t of xTicks) {
    parts.push(line(x(t), area.y, x(t), area.y + area.h, { stroke: '#edf2f7' }));
    parts.push(text(x(t), area.y + area.h + 14, formatTick(t), { 'text-anchor': 'middle' }));
  }
  parts.push(text(area.x + area.w / 2, area.y + area.h + 30, p.xLabel, { 'text-anchor': 'middle', 'font-size': 10, fill: '#4a5568' }));
  parts.push(line(area.x, area.y, area.x, area.y + area.h));
  parts.push(line(area.x, area.y + area.h, area.x + area.w, area.y + area.h));
  p.series.forEach((s, i) => {
    const finite = s.points.filter((pt) => Number.isFinite(pt.y));
    const points = finite.map((pt) => `${x(pt.x).toFixed(2)},${y(pt.y).toFixed(2)}`).join(' ');
    const stroke = { stroke: s.color, 'stroke-width': s.reference ? 1.5 : 2, ...(s.reference ? { 'stroke-dasharray': '5 3' } : {}) };
    parts.push(el('polyline', { points, fill: 'none', ...stroke }));
    if (!s.reference) for (const pt of finite) parts.push(el('circle', { cx: x(pt.x), cy: y(pt.y), r: MARKER_RADIUS_PX, fill: s.color }));
    const ly = area.y + 12 + i * LEGEND_ROW_PX;
    parts.push(line(area.x + 8, ly - 4, area.x + 26, ly - 4, stroke));
    parts.push(text(area.x + 30, ly, s.label, { 'font-size': 10 }));
  });
  return el('g', {}, parts.join(''));
}
