// One SVG document: a title, a line of context (mode, runs, machine), and the panels side by
// side. Hand-written SVG 1.1, valid XML, no scripts or external references.

import { renderBarPanel } from './bar-panel';
import { renderCdfPanel } from './cdf-panel';
import { renderLinePanel } from './line-panel';
import type { Panel } from './panel';
import { el, text } from './svg';

const PANEL_W = 380;
const PANEL_H = 320;
const HEADER_H = 48;

export function renderChart(title: string, subtitle: string, panels: readonly Panel[]): string {
  const width = Math.max(1, panels.length) * PANEL_W;
  const height = HEADER_H + PANEL_H;
  const body = panels.map((p, i) => {
    const box = { x: i * PANEL_W, y: HEADER_H, w: PANEL_W, h: PANEL_H };
    switch (p.kind) {
      case 'bars': return renderBarPanel(p, box);
      case 'cdf': return renderCdfPanel(p, box);
      case 'lines': return renderLinePanel(p, box);
    }
  });
  const content = [
    el('rect', { x: 0, y: 0, width, height, fill: '#ffffff' }),
    text(12, 20, title, { 'font-size': 15, 'font-weight': 'bold' }),
    text(12, 38, subtitle, { 'font-size': 10, fill: '#4a5568' }),
    ...body,
  ].join('\n');
  const svg = el('svg', { xmlns: 'http://www.w3.org/2000/svg', version: '1.1', width, height, viewBox: `0 0 ${width} ${height}` }, `\n${content}\n`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${svg}\n`;
}
