// What a plot shows, independent of how it is drawn: panels laid side by side in one SVG.
// A bar panel compares our system with its baseline (bar = median, whisker = min..max over the
// runs); a CDF panel shows latency distributions.

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

export type Panel = BarPanel | CdfPanel;

export const ROLE_COLORS: Record<Role, string> = { ours: '#2b6cb0', baseline: '#a0aec0' };
export const LINE_COLOR = '#c53030';
