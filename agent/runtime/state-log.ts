import type { Logger } from '../../core/log.js';
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { SourceState } from '../../drivers/types.js';

/** State changes logged as they happen per source and window; more are counted. */
export const STATE_LOG_BURST = 5;
export const STATE_LOG_WINDOW_MS = 60_000;

const levelOf = (s: SourceState) => (s === 'ok' ? 'info' : s === 'down' || s === 'backing-off' ? 'warn' : 'debug');

/**
 * The log of one source's state changes, rate-limited: a device flapping between up and down
 * (1,419 lines in 240 s were seen) must not flood the journal. The first `burst` changes of a
 * window are logged as they happen; later ones are counted per state, and when the window ends one
 * summary line gives the counts and the state the source is in now, so the last word in the log
 * is always the current state. A window starts at the first change after a quiet one.
 */
export class StateLog {
  private windowStart: number | undefined;
  private logged = 0;
  private suppressed = 0;
  private readonly counts = new Map<SourceState, number>();
  private state: SourceState = 'starting';
  private detail: string | undefined;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly burst = STATE_LOG_BURST,
    private readonly windowMs = STATE_LOG_WINDOW_MS,
  ) {}

  change(state: SourceState, detail: string | undefined): void {
    this.state = state;
    this.detail = detail;
    if (this.windowStart === undefined) {
      this.windowStart = this.clock.mono();
      this.logged = 0;
      this.timer = this.clock.setTimeout(this.endWindow, this.windowMs);
      (this.timer as { unref?: () => void }).unref?.(); // a pending summary never holds the process
    }
    if (this.logged < this.burst) {
      this.logged++;
      this.log[levelOf(state)]({ state, detail }, `source ${state}`);
      return;
    }
    this.suppressed++;
    this.counts.set(state, (this.counts.get(state) ?? 0) + 1);
  }

  /** Writes the pending summary (the source stops) and cancels the window's timer. */
  close(): void {
    this.clock.clearTimeout(this.timer);
    this.endWindow();
  }

  private readonly endWindow = (): void => {
    this.timer = undefined;
    const start = this.windowStart;
    this.windowStart = undefined;
    if (start === undefined || this.suppressed === 0) return;
    const changes = Object.fromEntries(this.counts);
    const seconds = Math.round((this.clock.mono() - start) / 1000);
    const n = this.suppressed;
    this.suppressed = 0;
    this.counts.clear();
    const level = levelOf(this.state) === 'debug' ? 'info' : levelOf(this.state);
    this.log[level]({ state: this.state, detail: this.detail, suppressed: n, changes },
      `source state changed ${n} more time${n === 1 ? '' : 's'} in ${seconds} s (not logged one by one); now ${this.state}`);
  };
}
