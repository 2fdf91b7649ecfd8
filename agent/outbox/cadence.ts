import { Periodic } from '../../core/periodic.js';
import type { Clock } from '../../core/clock.js';

export interface CadenceHooks {
  clock: Clock;
  /** Is the uplink connected (first-batch rule)? */
  linkUp(): boolean;
  /** After every flush: new batches may be there for the uplink. */
  flushed(): void;
}

/**
 * When the outbox cuts and commits: every min(flushInterval / 2, batch.maxDelay), at least 5 ms.
 * maxDelay because batches are cut at flushes; half flushInterval because with deferWrites an
 * unacknowledged batch reaches the disk one flush after it was cut, and the power-cut bound is
 * flushInterval. First-batch rule: until the first flush, one is done as soon as readings and the
 * link are both there, so an operator who restarts a board sees data at once, not a flush
 * interval later (one extra transaction per start).
 */
export class FlushCadence {
  timer: Periodic;
  private firstBatch: 'waiting' | 'scheduled' | 'done' = 'waiting';
  private stopped = true;

  constructor(
    private readonly flush: () => void,
    private readonly hooks: CadenceHooks,
    settings: { flushInterval: number; maxDelay: number },
  ) {
    this.timer = this.build(settings);
  }

  static periodMs(s: { flushInterval: number; maxDelay: number }): number {
    return Math.max(5, Math.min(s.flushInterval / 2, s.maxDelay));
  }

  private build(s: { flushInterval: number; maxDelay: number }): Periodic {
    return new Periodic(FlushCadence.periodMs(s), () => this.tick(), this.hooks.clock);
  }

  start(): void {
    this.stopped = false;
    this.timer.start();
  }

  stop(): void {
    this.stopped = true;
    this.timer.stop();
  }

  /** New settings (config change): a new timer from now on. */
  reschedule(s: { flushInterval: number; maxDelay: number }): void {
    if (FlushCadence.periodMs(s) === this.timer.periodMs) return;
    this.timer.stop();
    this.timer = this.build(s);
    if (!this.stopped) this.timer.start();
  }

  /** A reading arrived (cheap: one compare once the first batch is done). */
  reading(): void {
    if (this.firstBatch !== 'waiting' || this.stopped) return;
    this.firstBatch = 'scheduled';
    const attempt = () => {
      if (this.firstBatch !== 'scheduled' || this.stopped) return;
      if (this.hooks.linkUp()) this.tick();
      else setTimeout(attempt, 20).unref();
    };
    setImmediate(attempt);
  }

  private tick(): void {
    this.firstBatch = 'done';
    this.flush();
    this.hooks.flushed();
  }
}
