import { REQUEST_DEADLINE_MS } from '../shared/limits.js';

/** `load`'s report files and defaults, apart from the command so `--help` does not load the engine. */
export const LOAD_REPORTERS = ['json', 'html'] as const;
export type LoadReporter = (typeof LOAD_REPORTERS)[number];

export const LOAD_DEFAULTS = {
  rate: 100,
  duration: 10,
  ramp: 0,
  duplicates: 0.05,
  concurrent: 0.5,
  timeoutMs: REQUEST_DEADLINE_MS,
  minAck: 100,
  maxP99: 5000,
} as const;
