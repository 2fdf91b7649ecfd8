import { z } from 'zod';
import type { Emit, Quality, Reading, Value } from '../core/reading.js';
import { duration } from '../core/config-primitives.js';
import { defineStage, type Stage, type StageContext } from './types.js';
import { PointStates } from './point-state.js';

/**
 * `dedupe` (SPEC "Stage semantics"): drops a reading equal to the last one passed for its
 * source/point unless `maxSilence` has passed since then (a heartbeat), and always drops an
 * exact repeat (same ts and value). With `tolerance`, numbers within it of the last passed
 * value count as equal (the reference stays the last passed value, so slow drift still
 * passes once it exceeds the tolerance). A change of quality is not a repeat.
 *
 * Silence is measured on reading timestamps (acquisition time), so it is deterministic and
 * replayable. If a timestamp is earlier than the last passed one the wall clock stepped back:
 * the reading passes and becomes the new reference, so a backwards step never mutes a point.
 */
export const dedupeSchema = z.strictObject({
  maxSilence: duration().optional(),
  tolerance: z.number().nonnegative().optional(),
});

export type DedupeConfig = z.output<typeof dedupeSchema>;

interface Last {
  gen: number;
  value: Value;
  ts: number;
  quality: Quality | undefined;
}

export class DedupeStage implements Stage {
  private readonly maxSilence: number;
  private readonly tolerance: number;
  readonly state: PointStates<Last>;

  constructor(cfg: DedupeConfig, private readonly next: Emit, private readonly ctx: StageContext) {
    this.maxSilence = cfg.maxSilence ?? Infinity;
    this.tolerance = cfg.tolerance ?? 0;
    // Evicting a state idle longer than maxSilence cannot change the output: the next reading
    // would pass anyway. Without maxSilence, idle points are forgotten after ~10 minutes.
    const sweepEveryMs = 60_000;
    const idleSweeps = Number.isFinite(this.maxSilence) ? Math.max(2, Math.ceil(this.maxSilence / sweepEveryMs) + 1) : 10;
    this.state = new PointStates<Last>({ sweepEveryMs, idleSweeps });
  }

  push(r: Reading): void {
    // `good` and omitted are the same quality.
    const q = r.quality === 'good' ? undefined : r.quality;
    const last = this.state.get(r.source, r.point);
    if (last === undefined) {
      this.state.add(r.source, r.point, { gen: 0, value: r.value, ts: r.ts, quality: q });
      this.next(r);
      return;
    }
    const v = r.value;
    const lv = last.value;
    const same = v === lv || (this.tolerance > 0 && typeof v === 'number' && typeof lv === 'number' && Math.abs(v - lv) <= this.tolerance);
    if (same && q === last.quality) {
      const dt = r.ts - last.ts;
      if (dt === 0 && v === lv) {
        this.ctx.drop('dedupe.exact');
        return;
      }
      if (dt >= 0 && dt < this.maxSilence) {
        this.ctx.drop('dedupe.repeat');
        return;
      }
    }
    last.value = v;
    last.ts = r.ts;
    last.quality = q;
    this.next(r);
  }

  tick(): void {
    this.state.sweep(this.ctx.clock.mono());
  }
}

export const dedupe = defineStage({
  name: 'dedupe',
  schema: dedupeSchema,
  create: (cfg, next, ctx) => new DedupeStage(cfg, next, ctx),
});
