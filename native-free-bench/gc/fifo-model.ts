// The analytic write amplification of FIFO cleaning under uniform random overwrites, which
// greedy matches closely when segments hold many records (Menon 1995; Desnoyers 2012; Bux and
// Iliadis 2010). At utilization u (live data / space the log cycles through), a segment reaches
// the cleaner with a live fraction x that solves x = exp(-(1 - x) / u), x < 1: between its
// writing and its cleaning the host writes (1 - x) segments' worth for each segment of space,
// and a record survives k random overwrites of L live records with probability exp(-k / L).
// Each cleaned segment then frees (1 - x) of itself for the cost of moving x, so
// write amplification = 1 / (1 - x).

/** Bisection steps: the bracket shrinks below 1e-15 well before this. */
const BISECTION_STEPS = 200;

/** x of the model, for 0 < u < 1. x = 1 is always a root; the one below it is wanted, and
 * x - exp(-(1 - x) / u) is negative at 0 and positive just below 1. */
export function liveFractionAtCleaning(u: number): number {
  if (!(u > 0 && u < 1)) throw new RangeError(`utilization must be in (0, 1); got ${u}`);
  let lo = 0;
  let hi = 1 - 1e-12;
  for (let i = 0; i < BISECTION_STEPS && hi - lo > 1e-15; i++) {
    const mid = (lo + hi) / 2;
    if (mid - Math.exp(-(1 - mid) / u) > 0) hi = mid;
    else lo = mid;
  }
  return (lo + hi) / 2;
}

/** (host bytes + moved bytes) / host bytes at utilization u, by the model. */
export function modelWriteAmplification(u: number): number {
  return 1 / (1 - liveFractionAtCleaning(u));
}
