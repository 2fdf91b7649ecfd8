/** Growing retry interval of a unit that stopped answering: 1 s, 2 s, 4 s ... capped at 30 s. */
export const BREAKER_BASE_MS = 1000;
export const BREAKER_MAX_MS = 30_000;

/**
 * Per-unit circuit breaker. Closed: requests go out with retries. Open: requests to the unit
 * are skipped (no bus time spent) until retryAt; then one request goes out without retries as
 * a probe: an answer closes the breaker, silence doubles the interval. This is what keeps a
 * dead slave from eating the poll rate of the live ones on the same line.
 */
export class Breaker {
  failures = 0;
  retryAt = 0;
  /** Consecutive failed requests (after retries) while closed, or probes while open. */
  get open(): boolean {
    return this.failures > 0;
  }

  /** May a request go out now? `probe` tells whether it is a single-shot probe. */
  allows(now: number): boolean {
    return this.failures === 0 || now >= this.retryAt;
  }

  success(): void {
    this.failures = 0;
    this.retryAt = 0;
  }

  failure(now: number): number {
    this.failures++;
    const wait = Math.min(BREAKER_MAX_MS, BREAKER_BASE_MS * 2 ** (this.failures - 1));
    this.retryAt = now + wait;
    return wait;
  }
}
