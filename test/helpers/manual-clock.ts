import type { Clock, TimerHandle } from '../../core/clock.js';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock the test drives. `advance` moves both clocks and fires the timers that fall due, in
 * order; `jump` moves only the wall clock. `run` is `advance` for async code: it lets the
 * promise chains a timer starts settle before the next timer fires, so a driver's timeout can be
 * tested without real waiting.
 */
export class ManualClock implements Clock {
  private timers = new Map<number, Pending>();
  private seq = 0;

  constructor(public wall = Date.UTC(2026, 0, 1), public monoMs = 5_000) {}

  now(): number {
    return this.wall;
  }

  mono(): number {
    return this.monoMs;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { at: this.monoMs + Math.max(0, ms), seq: id, fn });
    return id as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle !== undefined) this.timers.delete(handle as unknown as number);
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves both clocks by `ms`, firing due timers synchronously. */
  advance(ms: number): void {
    const end = this.monoMs + ms;
    for (let t = this.next(end); t; t = this.next(end)) this.fire(t);
    this.wall += end - this.monoMs;
    this.monoMs = end;
  }

  /** Moves both clocks by `ms`; after each timer (and at the start) pending promise chains settle. */
  async run(ms: number): Promise<void> {
    const end = this.monoMs + ms;
    await settle();
    for (let t = this.next(end); t; t = this.next(end)) {
      this.fire(t);
      await settle();
    }
    this.wall += end - this.monoMs;
    this.monoMs = end;
    await settle();
  }

  jump(ms: number): void {
    this.wall += ms;
  }

  private next(end: number): Pending | undefined {
    let best: Pending | undefined;
    for (const t of this.timers.values()) if (t.at <= end && (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq))) best = t;
    return best;
  }

  private fire(t: Pending): void {
    this.timers.delete(t.seq);
    this.wall += t.at - this.monoMs;
    this.monoMs = t.at;
    t.fn();
  }
}

/** Lets queued microtasks and immediate callbacks run (promise chains a timer started). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
}
