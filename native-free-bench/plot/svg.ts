// Minimal SVG text building: escaped attributes and text, so every document is well-formed XML.

export type Attrs = Record<string, string | number>;

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

/** A number as a short attribute value (two decimals at most). */
export function coord(n: number): string {
  return String(Math.round(n * 100) / 100);
}

function attrText(attrs: Attrs): string {
  return Object.entries(attrs)
    .map(([k, v]) => ` ${k}="${escapeXml(typeof v === 'number' ? coord(v) : v)}"`)
    .join('');
}

/** An element; `children` is markup already built with these helpers. */
export function el(name: string, attrs: Attrs, children?: string): string {
  return children === undefined ? `<${name}${attrText(attrs)}/>` : `<${name}${attrText(attrs)}>${children}</${name}>`;
}

export function text(x: number, y: number, content: string, attrs: Attrs = {}): string {
  return el('text', { x, y, 'font-family': 'sans-serif', 'font-size': 11, fill: '#1a202c', ...attrs }, escapeXml(content));
}

export function line(x1: number, y1: number, x2: number, y2: number, attrs: Attrs = {}): string {
  return el('line', { x1, y1, x2, y2, stroke: '#4a5568', 'stroke-width': 1, ...attrs });
}

/** Numbers for labels: 3 significant digits, no exponent for everyday magnitudes. */
export function formatValue(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  if (a >= 1000) return String(Math.round(n));
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  if (a >= 1) return n.toFixed(2);
  if (a === 0) return '0';
  return n.toPrecision(3);
}

/** Axis tick labels: as short as the value allows (0.25, 5, 1000). */
export function formatTick(n: number): string {
  return String(Number(n.toPrecision(6)));
}
