// `lsa inspect --svg FILE`: the array as a picture. One cell per data segment (1 .. N-1), row
// after row, filled by utilization (live bytes / the segment's data bytes; free segments a
// neutral grey), outlined when open (thick black) or being collected (dashed purple). A bar
// along the bottom of each cell sits in the lane of the parity disk (lane 0 at the left), so
// the rotation of parity shows as diagonals; large cells also print "P<disk>". Every cell
// has a tooltip (<title>) with its numbers. Plain SVG 1.1, no script: any browser shows it.

import { InvalidArgumentError } from '../../errors';
import { formatSize } from '../../util/size';
import type { ArrayDescription, SegmentSummary } from './describe-array';

/** Beyond this many cells a picture says nothing a histogram does not; refuse. */
export const SVG_SEGMENTS_MAX = 65536;
const MARGIN = 16;
const TITLE_HEIGHT = 44;
const ROW_LABEL_WIDTH = 44;
const LEGEND_HEIGHT = 70;
const LEGEND_WIDTH = 820;
const FREE_FILL = '#d9d9d9';
const OPEN_STROKE = '#000000';
const COLLECTING_STROKE = '#7b2cbf';
/** Colour ramp for utilization 0 .. 1 (ColorBrewer "Blues"). */
const RAMP = ['#f7fbff', '#c6dbef', '#6baed6', '#2171b5', '#08306b'];

interface Grid {
  cellPx: number;
  perRow: number;
  rows: number;
}

function gridFor(cells: number): Grid {
  const cellPx = cells <= 1024 ? 28 : cells <= 8192 ? 14 : 6;
  const perRow = Math.max(1, Math.min(cellPx >= 28 ? 32 : 64, Math.ceil(Math.sqrt(cells * 2))));
  return { cellPx, perRow, rows: Math.ceil(cells / perRow) };
}

export function utilizationColour(u: number): string {
  const x = Math.max(0, Math.min(1, u)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const t = x - i;
  const a = parseInt(RAMP[i].slice(1), 16);
  const b = parseInt(RAMP[i + 1].slice(1), 16);
  const mix = (shift: number): number => Math.round(((a >> shift) & 0xff) * (1 - t) + ((b >> shift) & 0xff) * t);
  return `#${[16, 8, 0].map((s) => mix(s).toString(16).padStart(2, '0')).join('')}`;
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function num(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

function cell(s: SegmentSummary, x: number, y: number, px: number, disks: number): string {
  const free = s.state === 'free';
  const fill = free ? FREE_FILL : utilizationColour(s.utilization);
  const stroke = s.state === 'open' ? ` stroke="${OPEN_STROKE}" stroke-width="2.5"` : s.state === 'collecting' ? ` stroke="${COLLECTING_STROKE}" stroke-width="2" stroke-dasharray="3,2"` : ' stroke="#ffffff" stroke-width="0.5"';
  const tip = `segment ${s.index}: ${s.state}${free ? '' : `, ${(s.utilization * 100).toFixed(1)}% live, ${formatSize(s.fillBytes)} filled, ${s.trimRefs} trim refs`}, parity on disk ${s.parityDisk}`;
  const lane = (px - 1) / disks;
  const barPx = Math.max(1, Math.round(px / 7));
  const parts = [
    `<g class="cell" id="segment-${s.index}">`,
    `<rect class="segment ${s.state}" data-segment="${s.index}" data-parity-disk="${s.parityDisk}" data-utilization="${s.utilization.toFixed(4)}" x="${num(x)}" y="${num(y)}" width="${px - 1}" height="${px - 1}" fill="${fill}"${stroke}><title>${escapeXml(tip)}</title></rect>`,
    `<rect class="parity-mark" x="${num(x + s.parityDisk * lane)}" y="${num(y + px - 1 - barPx)}" width="${num(Math.max(1, lane - 0.5))}" height="${barPx}" fill="#e6550d"/>`,
  ];
  if (px >= 28) {
    const dark = !free && s.utilization > 0.55;
    parts.push(`<text class="parity-label" x="${num(x + px / 2 - 0.5)}" y="${num(y + px / 2 + 1)}" font-size="9" text-anchor="middle" fill="${dark ? '#ffffff' : '#333333'}">P${s.parityDisk}</text>`);
  }
  parts.push('</g>');
  return parts.join('');
}

function legend(x: number, y: number, disks: number): string {
  const out: string[] = [`<g class="legend" font-size="11">`];
  out.push(`<text x="${x}" y="${y + 10}">utilization (live bytes / segment data bytes)</text>`);
  for (let i = 0; i <= 10; i++) {
    out.push(`<rect x="${x + i * 22}" y="${y + 16}" width="20" height="14" fill="${utilizationColour(i / 10)}" stroke="#999999" stroke-width="0.5"/>`);
    if (i % 5 === 0) out.push(`<text x="${x + i * 22 + 10}" y="${y + 42}" text-anchor="middle">${i * 10}%</text>`);
  }
  const x2 = x + 11 * 22 + 24;
  out.push(`<rect x="${x2}" y="${y + 16}" width="14" height="14" fill="${FREE_FILL}"/><text x="${x2 + 18}" y="${y + 27}">free</text>`);
  out.push(`<rect x="${x2 + 60}" y="${y + 16}" width="14" height="14" fill="#ffffff" stroke="${OPEN_STROKE}" stroke-width="2.5"/><text x="${x2 + 80}" y="${y + 27}">open</text>`);
  out.push(`<rect x="${x2 + 124}" y="${y + 16}" width="14" height="14" fill="#ffffff" stroke="${COLLECTING_STROKE}" stroke-width="2" stroke-dasharray="3,2"/><text x="${x2 + 144}" y="${y + 27}">collecting</text>`);
  out.push(`<rect x="${x2}" y="${y + 40}" width="${Math.max(2, Math.round(14 / disks))}" height="4" fill="#e6550d"/><text x="${x2 + 18}" y="${y + 46}">parity disk: bar position across the cell (disk 0 at the left of ${disks} lanes)</text>`);
  out.push('</g>');
  return out.join('');
}

export function renderSvg(info: ArrayDescription): string {
  const segments = info.segments;
  if (segments.length > SVG_SEGMENTS_MAX) {
    throw new InvalidArgumentError(`the array has ${segments.length} data segments; --svg draws at most ${SVG_SEGMENTS_MAX} (use --json for the numbers)`, { segments: segments.length });
  }
  const g = info.geometry;
  const grid = gridFor(segments.length);
  const c = info.segmentCounts;
  const title = `lsa array ${info.dir}: ${g.disks} disks (${g.dataDisks} data + 1 rotating parity) x ${formatSize(g.diskBytes)}, columns ${formatSize(g.columnBytes)}, tracks ${formatSize(g.trackBytes)}`;
  // wide enough for the grid, the title (about 8 px a character at 14 px bold) and the legend
  const width = Math.max(MARGIN * 2 + ROW_LABEL_WIDTH + grid.perRow * grid.cellPx, MARGIN * 2 + title.length * 8, LEGEND_WIDTH);
  const gridTop = MARGIN + TITLE_HEIGHT;
  const height = gridTop + grid.rows * grid.cellPx + 16 + LEGEND_HEIGHT;
  const sub = `${g.dataSegments} data segments: ${c.free} free, ${c.open} open${info.openSegments.length ? ` (${info.openSegments.map((s) => `#${s}`).join(', ')})` : ''}, ${c.closed} closed, ${c.collecting} collecting; write amplification ${info.stats.writeAmplification.toFixed(3)}${info.degraded ? '; DEGRADED' : ''}`;
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text class="title" x="${MARGIN}" y="${MARGIN + 12}" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<text class="subtitle" x="${MARGIN}" y="${MARGIN + 30}" font-size="11">${escapeXml(sub)}</text>`,
    '<g class="segments">',
  ];
  segments.forEach((s, i) => {
    const row = Math.floor(i / grid.perRow);
    const col = i % grid.perRow;
    const x = MARGIN + ROW_LABEL_WIDTH + col * grid.cellPx;
    const y = gridTop + row * grid.cellPx;
    if (col === 0) out.push(`<text class="row-label" x="${MARGIN + ROW_LABEL_WIDTH - 6}" y="${num(y + grid.cellPx / 2 + 4)}" font-size="10" text-anchor="end">${s.index}</text>`);
    out.push(cell(s, x, y, grid.cellPx, g.disks));
  });
  out.push('</g>');
  out.push(legend(MARGIN, gridTop + grid.rows * grid.cellPx + 16, g.disks));
  out.push('</svg>');
  return out.join('\n') + '\n';
}
