// What a plot shows, independent of how it is drawn: panels laid side by side in one SVG.
// A bar panel compares our system with its baseline (bar = median, whisker = min..max over the
// runs); a CDF panel shows latency distributions; a line panel shows y against x per series.

export type Role = 'ours' | 'baseline';

export interface Bar {
  label: string;
  role: Role;
  median: number;
  min: number;
  max: number;
}

/** A horizontal reference line, such as a target or an ideal value. */
export interface ReferenceLine {
  label: string;
  value: number;
}

export interface BarPanel {
  kind: 'bars';
  title: string;
  unit: string;
  bars: Bar[];
  lines?: ReferenceLine[];
}

export interface CdfSeries {
  label: string;
  role: Role;
  /** Evenly spaced quantiles, q = 0 .. 1. */
  quantiles: number[];
}

export interface CdfPanel {
  kind: 'cdf';
  title: string;
  unit: string;
  series: CdfSeries[];
}

export interface LinePoint {
  x: number;
  y: number;
}

export interface LineSeries {
  label: string;
  color: string;
  points: LinePoint[];
  /** Dashed, without point markers: a model or reference curve rather than measurements. */
  reference?: boolean;
}

/** y against x, one line per series (gc: write amplification against utilization). */
export interface LinePanel {
  kind: 'lines';
  title: string;
  xLabel: string;
  unit: string;
  series: LineSeries[];
}

export type Panel = BarPanel | CdfPanel | LinePanel;

export const ROLE_COLORS: Record<Role, string> = { ours: '#2b6cb0', baseline: '#a0aec0' };
export const LINE_COLOR = '#c53030';
/** Colors of line series, distinguishable side by side (the first is ROLE_COLORS.ours). */
export const SERIES_COLORS = ['#2b6cb0', '#dd6b20', '#38a169', '#805ad5', '#d53f8c', '#718096'];
