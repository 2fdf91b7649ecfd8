import { z } from 'zod';
import type { Emit, Reading } from '../core/reading.js';
import { duration } from '../core/config-primitives.js';
import { defineStage, type Stage, type StageContext } from './types.js';
import { PointStates } from './point-state.js';

/**
 * `filter` (SPEC "Stage semantics"): drops readings outside [min, max], non-finite numbers,
 * steps faster than `maxRate` units/s against the last passed value (spike rejection), and
 * changes smaller than the deadband from the last passed value.
 *
 * `action: flag` keeps readings that fail a validity check (min, max, maxRate) with quality
 * `bad` instead of dropping them. Non-finite numbers are always dropped (they never leave a
 * pipeline) and the deadband always drops: it suppresses noise, it does not judge validity.
 * Flagged readings do not become the reference for later maxRate/deadband checks.
 * Non-numeric values (booleans, strings) pass untouched. Timestamps going backwards (the wall
 * clock stepped back) restart the reference instead of muting the point.
 */
export const filterSchema = z.strictObject({
  min: z.number().optional(),
  max: z.number().optional(),
  /** Units per second; a step faster than this from the last passed value is rejected. */
  maxRate: z.number().positive().optional(),
  /** Absolute: changes smaller than this from the last passed value are dropped. */
  deadband: z.number().nonnegative().optional(),
  /** Relative, in percent of the last passed value's magnitude. */
  deadbandPercent: z.number().nonnegative().optional(),
  /**
   * A reading inside the deadband still passes once this much time (by reading timestamps)
   * has passed since the last passed one, so a steady value keeps a heartbeat. When unset, a
   * later `dedupe` stage's maxSilence in the same pipeline is used (pipelines/router.ts):
   * otherwise the deadband would starve that heartbeat.
   */
  maxSilence: duration().optional(),
  action: z.enum(['drop', 'flag']).default('drop'),
}).superRefine((c, ctx) => {
  if (c.min !== undefined && c.max !== undefined && c.max < c.min) {
    ctx.addIssue({ code: 'custom', path: ['max'], message: `must be >= min (${c.min})` });
  }
});

export type FilterConfig = z.output<typeof filterSchema>;

interface Last {
  gen: number;
  value: number;
  ts: number;
}

export class FilterStage implements Stage {
  private readonly min: number;
  private readonly max: number;
  private readonly maxRate: number;
  private readonly deadband: number;
  private readonly deadbandFrac: number;
  private readonly flag: boolean;
  private readonly maxSilence: number;
  /** Only points that need a reference value (maxRate or a deadband) keep state. */
  private readonly stateful: boolean;
  readonly state = new PointStates<Last>();

  constructor(cfg: FilterConfig, private readonly next: Emit, private readonly ctx: StageContext) {
    this.min = cfg.min ?? -Infinity;
    this.max = cfg.max ?? Infinity;
    this.maxRate = cfg.maxRate ?? Infinity;
    this.deadband = cfg.deadband ?? 0;
    this.deadbandFrac = (cfg.deadbandPercent ?? 0) / 100;
    this.flag = cfg.action === 'flag';
    this.maxSilence = cfg.maxSilence ?? Infinity;
    this.stateful = cfg.maxRate !== undefined || this.deadband > 0 || this.deadbandFrac > 0;
  }

  push(r: Reading): void {
    const v = r.value;
    if (typeof v !== 'number') {
      this.next(r);
      return;
    }
    if (v !== v || v === Infinity || v === -Infinity) {
      this.ctx.drop('filter.non-finite');
      return;
    }
    if (v < this.min) return this.reject(r, 'filter.min');
    if (v > this.max) return this.reject(r, 'filter.max');
    if (!this.stateful) {
      this.next(r);
      return;
    }
    const last = this.state.get(r.source, r.point);
    if (last === undefined) {
      // First value of this point (or state evicted, or the cap reached): nothing to compare with.
      this.state.add(r.source, r.point, { gen: 0, value: v, ts: r.ts });
      this.next(r);
      return;
    }
    const step = v > last.value ? v - last.value : last.value - v;
    const dt = r.ts - last.ts;
    if (this.maxRate !== Infinity) {
      // dt < 0: the wall clock stepped back; the rate is unknowable, so restart from this value
      // rather than rejecting everything until the clock catches up.
      if (dt >= 0 && step > 0 && (dt === 0 || (step * 1000) / dt > this.maxRate)) {
        return this.reject(r, 'filter.maxRate');
      }
    }
    const band = this.deadbandFrac > 0
      ? Math.max(this.deadband, this.deadbandFrac * (last.value < 0 ? -last.value : last.value))
      : this.deadband;
    if (step < band && dt >= 0 && dt < this.maxSilence) {
      this.ctx.drop('filter.deadband');
      return;
    }
    last.value = v;
    last.ts = r.ts;
    this.next(r);
  }

  private reject(r: Reading, reason: string): void {
    // Flagging allocates, but only for rejected readings, never on the pass path.
    if (this.flag) {
      this.ctx.drop(`${reason}.flagged`);
      this.next({ ...r, quality: 'bad' });
    } else this.ctx.drop(reason);
  }

  tick(): void {
    if (this.stateful) this.state.sweep(this.ctx.clock.mono());
  }
}

export const filter = defineStage({
  name: 'filter',
  schema: filterSchema,
  create: (cfg, next, ctx) => new FilterStage(cfg, next, ctx),
});
