import type { Clock } from '../../core/clock.js';
import type { Reading, Value } from '../../core/reading.js';
import type { StageContext } from '../../pipelines/types.js';

/** A clock the test drives: `advance` moves both clocks, `jump` only the wall clock. */
export class FakeClock implements Clock {
  constructor(public wall = Date.UTC(2026, 0, 1), public monoMs = 5_000) {}
  now(): number {
    return this.wall;
  }
  mono(): number {
    return this.monoMs;
  }
  advance(ms: number): void {
    this.wall += ms;
    this.monoMs += ms;
  }
  jump(ms: number): void {
    this.wall += ms;
  }
}

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
