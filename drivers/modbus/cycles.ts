import type { ModbusConfig } from './config.js';
import { plan, type PlannedRequest } from './planner.js';
import { compilePoint, type CompiledPoint } from './source.js';

export interface CycleSummary {
  /** Poll intervals (ms) due together in this kind of cycle. */
  intervals: number[];
  requests: number;
  /** How many such cycles occur per hyperperiod. */
  occurrences: number;
}

export interface SourcePlan {
  all: PlannedRequest<CompiledPoint>[];
  cycles: CycleSummary[];
  hyperperiodMs: number;
  requestsPerSecond: number;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * The requests a source makes: when every point is due, and for each combination of poll
 * intervals that falls due together over one hyperperiod (the least common multiple of the
 * intervals, capped at a day), as the bus scheduler produces them.
 */
export function planSource(cfg: ModbusConfig): SourcePlan {
  const intervals = [...new Set(cfg.points.map((p) => p.pollInterval ?? cfg.pollInterval))].sort((a, b) => a - b);
  const points = cfg.points.map((p) => compilePoint(p, cfg.unitId, 1 << intervals.indexOf(p.pollInterval ?? cfg.pollInterval)));
  const planFor = (mask: number) => plan(points.filter((p) => (p.groupBit & mask) !== 0), cfg);
  let hyper = intervals.reduce((l, iv) => (l / gcd(l, iv)) * iv, 1);
  hyper = Math.min(hyper, 86_400_000);
  const step = intervals.reduce((g, iv) => gcd(g, iv));
  const masks = new Map<number, number>();
  // Walk the schedule over one hyperperiod, bounded so an odd mix of intervals stays cheap.
  const ticks = Math.min(Math.floor(hyper / step), 100_000);
  for (let k = 0; k < ticks; k++) {
    const t = k * step;
    let mask = 0;
    intervals.forEach((iv, i) => { if (t % iv === 0) mask |= 1 << i; });
    if (mask) masks.set(mask, (masks.get(mask) ?? 0) + 1);
  }
  const spanMs = ticks * step;
  let total = 0;
  const cycles: CycleSummary[] = [];
  for (const [mask, occurrences] of [...masks].sort((a, b) => a[0] - b[0])) {
    const requests = planFor(mask).length;
    total += requests * occurrences;
    cycles.push({ intervals: intervals.filter((_, i) => mask & (1 << i)), requests, occurrences });
  }
  return { all: planFor((1 << intervals.length) - 1), cycles, hyperperiodMs: spanMs, requestsPerSecond: (total * 1000) / spanMs };
}
