import { performance } from 'node:perf_hooks';

/**
 * Two clocks, never mixed: `mono` schedules (immune to NTP jumps), `now` stamps readings. Timers
 * go through the clock too, so a test can drive time (a timeout without real waiting) and
 * simulate wall-clock jumps.
 */
export interface Clock {
  /** Wall clock, ms since the Unix epoch. Only for timestamps. */
  now(): number;
  /** Monotonic ms since an arbitrary origin. For scheduling and durations. */
  mono(): number;
  /** Runs `fn` once after `ms` monotonic milliseconds; the handle is opaque. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; undefined and already-fired handles are ignored. */
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** What setTimeout returns: only ever handed back to clearTimeout. */
export type TimerHandle = { readonly __timer: unique symbol } | NodeJS.Timeout;

export const systemClock: Clock = {
  now: () => Date.now(),
  mono: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout | undefined),
};

/** A promise that resolves after `ms` on `clock` (waits between bus requests, retry pauses). */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((r) => clock.setTimeout(r, ms));
}
