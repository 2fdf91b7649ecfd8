import type { Clock } from '../../core/clock.js';
import type { Reading, Value } from '../../core/reading.js';
import type { StageContext } from '../../pipelines/types.js';

/** The test clock (advance moves both clocks and fires due timers, jump only the wall clock). */
export { ManualClock as FakeClock } from '../helpers/manual-clock.js';
import { ManualClock as FakeClock } from '../helpers/manual-clock.js';

export function stageHarness(clock: Clock = new FakeClock()) {
  const out: Reading[] = [];
  const drops = new Map<string, number>();
  const ctx: StageContext = { clock, drop: (reason) => drops.set(reason, (drops.get(reason) ?? 0) + 1) };
  const sink = (r: Reading) => out.push(r);
  return { out, drops, ctx, sink, drop: (reason: string) => drops.get(reason) ?? 0 };
}

export const rd = (ts: number, value: Value, point = 'p', source = 's'): Reading => ({ source, point, ts, value });

/** [ts, value] pairs of the output, for compact exact comparisons. */
export const tv = (out: Reading[]) => out.map((r) => [r.ts, r.value]);
