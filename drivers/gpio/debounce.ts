/**
 * Stable-time debouncer on the monotonic clock: a new level is accepted once the input has held
 * it for `debounceMs` with no change back. Pure (the caller supplies times and runs the timer),
 * so it is exercised with a fake clock and behaves the same for interrupts and polling.
 */
export class Debouncer {
  private stable: 0 | 1 = 0;
  private candidate: 0 | 1 | -1 = -1;
  private since = 0;

  constructor(private readonly debounceMs: number) {}

  /** Start from a known level (the first read), with nothing pending. */
  reset(level: 0 | 1): void {
    this.stable = level;
    this.candidate = -1;
  }

  get level(): 0 | 1 {
    return this.stable;
  }

  get pending(): boolean {
    return this.candidate !== -1;
  }

  /** Monotonic time the pending level was first seen (valid while `pending`). */
  get pendingSince(): number {
    return this.since;
  }

  /** When `settle` can next accept the pending level; undefined when nothing is pending. */
  deadline(): number | undefined {
    return this.candidate === -1 ? undefined : this.since + this.debounceMs;
  }

  /**
   * An observed level at monotonic time `t`. Returns true when it was accepted at once
   * (debounce 0); otherwise the caller calls `settle` at `deadline()`.
   */
  input(level: 0 | 1, t: number): boolean {
    if (level === this.stable) {
      // Bounced back before it settled: the glitch never happened.
      this.candidate = -1;
      return false;
    }
    if (level !== this.candidate) {
      this.candidate = level;
      this.since = t;
    }
    if (this.debounceMs === 0) {
      this.stable = level;
      this.candidate = -1;
      return true;
    }
    return false;
  }

  /** Accept the pending level if it has held long enough by `t`; true when the level changed. */
  settle(t: number): boolean {
    if (this.candidate === -1 || t - this.since < this.debounceMs) return false;
    this.stable = this.candidate;
    this.candidate = -1;
    return true;
  }
}

export type EdgeKind = 'rising' | 'falling' | 'both';

/** Does an accepted change to `level` count as `edge`? (levels are logical, after activeLow) */
export function edgeMatches(edge: EdgeKind, level: 0 | 1): boolean {
  return edge === 'both' || (edge === 'rising') === (level === 1);
}
