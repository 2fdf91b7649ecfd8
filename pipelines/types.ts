import type { z } from 'zod';
import type { Emit, Reading } from '../core/reading.js';
import type { Clock } from '../core/clock.js';

/**
 * A pipeline stage. Stages are chained at build time (each gets `next`), so the hot path is
 * plain method calls with no per-reading allocation of closures or arrays.
 */
export interface Stage {
  push(r: Reading): void;
  /** Called about every 100 ms (monotonic) so time-based stages can close windows. */
  tick?(): void;
  /** Clean shutdown: emit what is held (e.g. aggregate's partial window). */
  flush?(): void;
}

export interface StageContext {
  readonly clock: Clock;
  /** Count a reading the stage dropped, by reason (e.g. `filter.max`). */
  drop(reason: string): void;
}

/** One entry in pipelines/index.ts: `- <name>: {...}` in the config. */
export interface StageDefinition<S extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly schema: S;
  create(config: z.output<S>, next: Emit, ctx: StageContext): Stage;
}

export function defineStage<S extends z.ZodType>(d: StageDefinition<S>): StageDefinition<S> {
  return d;
}
