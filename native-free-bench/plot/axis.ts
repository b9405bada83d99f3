// Axis ticks: "nice" linear steps (1, 2, 5 x 10^k) and decades for log scales.

/** Ticks from 0 to at least `max`, about `count` of them. */
export function linearTicks(max: number, count = 5): number[] {
  const top = max > 0 && Number.isFinite(max) ? max : 1;
  const raw = top / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = 0; v < top + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Powers of ten covering [lo, hi] (both > 0). */
export function decadeTicks(lo: number, hi: number): number[] {
  const from = Math.floor(Math.log10(lo));
  let to = Math.ceil(Math.log10(hi));
  if (to === from) to = from + 1;
  const ticks: number[] = [];
  for (let e = from; e <= to; e++) ticks.push(10 ** e);
  return ticks;
}
