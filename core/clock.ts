import { performance } from 'node:perf_hooks';

/**
 * Two clocks, never mixed: `mono` schedules (immune to NTP jumps), `now` stamps readings.
 * Injected so tests can drive time and simulate wall-clock jumps.
 */
export interface Clock {
  /** Wall clock, ms since the Unix epoch. Only for timestamps. */
  now(): number;
  /** Monotonic ms since an arbitrary origin. For scheduling and durations. */
  mono(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  mono: () => performance.now(),
};
