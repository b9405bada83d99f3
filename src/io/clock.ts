// Time comes from here, so tests and simulations can inject their own.

export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };
