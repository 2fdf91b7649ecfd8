import type { Clock } from './clock.js';
import { systemClock } from './clock.js';

/**
 * A drift-free repeating timer on the monotonic clock. Ticks land on start + k*period; when the
 * process was stalled past one or more slots they are skipped, never fired in a burst, so a
 * wall-clock jump or a long GC pause neither stalls nor double-fires.
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private origin = 0;
  private k = 0;
  /** Monotonic time of the last completed tick (watchdog progress). */
  lastTick = 0;
  /** Slots skipped because the loop was late (exposed for diagnostics). */
  skipped = 0;

  constructor(
    readonly periodMs: number,
    private readonly fn: () => void,
    private readonly clock: Clock = systemClock,
    private readonly unref = false,
  ) {
    if (!(periodMs > 0)) throw new Error(`period must be > 0 ms, got ${periodMs}`);
  }

  start(initialDelayMs = this.periodMs): this {
    this.stop();
    this.origin = this.clock.mono() + initialDelayMs - this.periodMs;
    this.k = 1;
    this.arm();
    return this;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  private arm(): void {
    const now = this.clock.mono();
    let due = this.origin + this.k * this.periodMs;
    if (due < now - this.periodMs) {
      const behind = Math.floor((now - due) / this.periodMs);
      this.skipped += behind;
      this.k += behind;
      due = this.origin + this.k * this.periodMs;
    }
    this.timer = setTimeout(this.onTimer, Math.max(0, due - now));
    if (this.unref) this.timer.unref();
  }

  private readonly onTimer = (): void => {
    this.k++;
    try {
      this.fn();
    } finally {
      this.lastTick = this.clock.mono();
      if (this.timer !== undefined) this.arm();
    }
  };
}
