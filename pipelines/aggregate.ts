import { z } from 'zod';
import type { Emit, Quality, Reading, Value } from '../core/reading.js';
import { duration } from '../core/config-primitives.js';
import { defineStage, type Stage, type StageContext } from './types.js';
import { PointStates } from './point-state.js';

/**
 * `aggregate` (SPEC "Stage semantics"): tumbling windows aligned to multiples of `window`
 * since the epoch (by reading timestamp); each function emits `<point>.<function>` stamped
 * with the window start. A window closes when a reading of a later window arrives, or on
 * time: tick() closes it `grace` after its end, measured on the MONOTONIC clock. The end is
 * translated to a monotonic deadline once, when the window opens, so a wall-clock step
 * afterwards neither stalls the close (step back) nor fires it twice (step forward).
 * flush() emits the open, partial windows (clean shutdown).
 *
 * Late readings: one stamped before the open window is folded into it (no data lost, no
 * second window with the same stamp). One stamped in the window just emitted, with no window
 * open, is dropped and counted `aggregate.late`, unless it is marked `unsynced` (the clock
 * stepped back): then it opens a window again, flagged unsynced, so the upstream can tell.
 *
 * Non-numeric values count for count, first and last only. stddev is the population one.
 * An output carries the worst quality and the `unsynced` mark of the window's inputs.
 */
export const FUNCTIONS = ['min', 'max', 'mean', 'sum', 'count', 'first', 'last', 'stddev'] as const;
export type AggFunction = (typeof FUNCTIONS)[number];
const NUMERIC: ReadonlySet<AggFunction> = new Set(['min', 'max', 'mean', 'sum', 'stddev']);

export const aggregateSchema = z.strictObject({
  window: duration().refine((ms) => ms > 0, 'must be > 0'),
  functions: z.array(z.enum(FUNCTIONS)).min(1).default(['mean'])
    .refine((fs) => new Set(fs).size === fs.length, 'functions must not repeat'),
  /** How long after a window's end late readings are still taken; default min(1s, window/2). */
  grace: duration().optional(),
});

export type AggregateConfig = z.output<typeof aggregateSchema>;

const QUALITY_RANK: Record<Quality, number> = { good: 0, uncertain: 1, bad: 2 };
const RANK_QUALITY: (Quality | undefined)[] = [undefined, 'uncertain', 'bad'];

class Window {
  gen = 0;
  open = false;
  start = 0;
  end = 0;
  /** Monotonic time at which tick() closes the window. */
  deadline = 0;
  /** Start of the last emitted window; NaN before the first. */
  emitted = Number.NaN;
  n = 0;
  nNum = 0;
  min = 0;
  max = 0;
  sum = 0;
  mean = 0;
  m2 = 0;
  first: Value = 0;
  last: Value = 0;
  rank = 0;
  unsynced = false;
  constructor(readonly source: string, readonly point: string, readonly names: readonly string[]) {}
}

export class AggregateStage implements Stage {
  private readonly window: number;
  private readonly grace: number;
  private readonly fns: readonly AggFunction[];
  readonly state: PointStates<Window>;
  /** Earliest deadline of any open window (tick() skips the scan before it). */
  private nextDeadline = Infinity;

  constructor(cfg: AggregateConfig, private readonly next: Emit, private readonly ctx: StageContext) {
    this.window = cfg.window;
    this.grace = cfg.grace ?? Math.min(1000, Math.floor(cfg.window / 2));
    this.fns = cfg.functions;
    // Idle points (no open window) are forgotten after a few windows, at least ~10 minutes.
    const sweepEveryMs = 60_000;
    this.state = new PointStates<Window>({ sweepEveryMs, idleSweeps: Math.max(10, Math.ceil((3 * cfg.window) / sweepEveryMs)) });
  }

  push(r: Reading): void {
    const v = r.value;
    if (typeof v === 'number' && !Number.isFinite(v)) {
      this.ctx.drop('aggregate.non-finite');
      return;
    }
    const w = this.state.get(r.source, r.point) ?? this.createWindow(r.source, r.point);
    if (w === undefined) {
      this.ctx.drop('aggregate.state-full');
      return;
    }
    // `r.ts` is read where used, never held in a local that a call needs: TurboFan would box
    // the double for the (rare) openAt call on every reading.
    if (w.open) {
      if (r.ts >= w.end) {
        this.close(w);
        this.openAt(w, r);
      }
      // r.ts < w.start: late or the clock stepped back; folded into the open window.
    } else if (!this.reopen(w, r)) return;
    this.add(w, r);
  }

  // Kept out of push(): a closure there would capture `r` and make V8 allocate a context on
  // every call, hit or miss.
  private createWindow(source: string, point: string): Window | undefined {
    const w = new Window(source, point, this.fns.map((f) => `${point}.${f}`));
    return this.state.add(source, point, w) ? w : undefined;
  }

  /** No window open: open one, unless the reading is late for the window just emitted. */
  private reopen(w: Window, r: Reading): boolean {
    if (this.startOf(r.ts) === w.emitted && !r.unsynced) {
      this.ctx.drop('aggregate.late');
      return false;
    }
    this.openAt(w, r);
    return true;
  }

  private startOf(ts: number): number {
    return Math.floor(ts / this.window) * this.window;
  }

  private openAt(w: Window, r: Reading): void {
    const start = this.startOf(r.ts);
    w.open = true;
    w.start = start;
    w.end = start + this.window;
    // Translate the window end to the monotonic clock once, now; clamp so a reading stamped
    // far in the future (or past) cannot hold a window open longer than one window.
    let left = w.end - this.ctx.clock.now();
    if (left < 0) left = 0;
    else if (left > this.window) left = this.window;
    w.deadline = this.ctx.clock.mono() + left + this.grace;
    if (w.deadline < this.nextDeadline) this.nextDeadline = w.deadline;
    w.n = 0;
    w.nNum = 0;
    w.sum = 0;
    w.mean = 0;
    w.m2 = 0;
    w.rank = 0;
    w.unsynced = false;
  }

  private add(w: Window, r: Reading): void {
    const v = r.value;
    if (w.n === 0) w.first = v;
    w.last = v;
    w.n++;
    if (typeof v === 'number') {
      if (w.nNum === 0) {
        w.min = v;
        w.max = v;
      } else {
        if (v < w.min) w.min = v;
        if (v > w.max) w.max = v;
      }
      w.nNum++;
      w.sum += v;
      // Welford: numerically stable running variance without keeping the values.
      const d = v - w.mean;
      w.mean += d / w.nNum;
      w.m2 += d * (v - w.mean);
    }
    if (r.quality !== undefined) {
      const k = QUALITY_RANK[r.quality];
      if (k > w.rank) w.rank = k;
    }
    if (r.unsynced) w.unsynced = true;
  }

  private close(w: Window): void {
    w.open = false;
    w.emitted = w.start;
    const quality = RANK_QUALITY[w.rank];
    for (let i = 0; i < this.fns.length; i++) {
      const f = this.fns[i];
      if (w.nNum === 0 && NUMERIC.has(f)) continue;
      let value: Value;
      switch (f) {
        case 'min': value = w.min; break;
        case 'max': value = w.max; break;
        case 'mean': value = w.mean; break;
        case 'sum': value = w.sum; break;
        case 'count': value = w.n; break;
        case 'first': value = w.first; break;
        case 'last': value = w.last; break;
        case 'stddev': value = Math.sqrt(w.m2 / w.nNum); break;
      }
      const out: Reading = { source: w.source, point: w.names[i], ts: w.start, value };
      if (quality !== undefined) out.quality = quality;
      if (w.unsynced) out.unsynced = true;
      this.next(out);
    }
  }

  /** Closes windows whose monotonic deadline has passed. */
  tick(): void {
    const mono = this.ctx.clock.mono();
    if (mono >= this.nextDeadline) {
      let nextDeadline = Infinity;
      this.state.forEach((w) => {
        if (!w.open) return;
        if (w.deadline <= mono) this.close(w);
        else if (w.deadline < nextDeadline) nextDeadline = w.deadline;
      });
      this.nextDeadline = nextDeadline;
    }
    this.state.sweep(mono, (w) => w.open);
  }

  /** Clean shutdown: emit every open (partial) window. */
  flush(): void {
    this.state.forEach((w) => {
      if (w.open) this.close(w);
    });
    this.nextDeadline = Infinity;
  }

  /** Open windows (diagnostics, tests). */
  get openWindows(): number {
    let n = 0;
    this.state.forEach((w) => {
      if (w.open) n++;
    });
    return n;
  }
}

export const aggregate = defineStage({
  name: 'aggregate',
  schema: aggregateSchema,
  create: (cfg, next, ctx) => new AggregateStage(cfg, next, ctx),
});
