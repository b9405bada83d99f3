// The rectangle a panel draws into, and the inner plot area left after its margins.

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export const PLOT_MARGIN = { left: 56, right: 16, top: 34, bottom: 44 };

export function plotArea(b: Box): Box {
  return {
    x: b.x + PLOT_MARGIN.left,
    y: b.y + PLOT_MARGIN.top,
    w: b.w - PLOT_MARGIN.left - PLOT_MARGIN.right,
    h: b.h - PLOT_MARGIN.top - PLOT_MARGIN.bottom,
  };
}
