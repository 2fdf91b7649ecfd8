import { z } from 'zod';
import { defineDriver, type Driver, type SourceContext } from '../types.js';
import { duration, identifier, positiveDuration, sourceBase } from '../../core/config-primitives.js';
import { Periodic } from '../../core/periodic.js';

/** Built-in generator for demos, tests and benchmarks: no hardware. */
const pointSchema = z.strictObject({
  name: identifier(),
  wave: z.enum(['sine', 'walk', 'counter', 'step', 'constant']),
  period: positiveDuration().default(60_000),
  min: z.number().default(0),
  max: z.number().default(100),
  /** counter: increment per poll (default 1); walk: max step (default (max-min)/50). */
  step: z.number().optional(),
  /** constant: the value (number, boolean or string). */
  value: z.union([z.number(), z.boolean(), z.string()]).optional(),
  unit: z.string().optional(),
  pollInterval: positiveDuration().optional(),
});

export const simSchema = z.strictObject({
  ...sourceBase,
  driver: z.literal('sim'),
  pollInterval: positiveDuration().default(1000),
  /** Readings per point per poll (benchmarks use this to produce load cheaply). */
  burst: z.int().min(1).max(100_000).default(1),
  points: z.array(pointSchema).min(1),
  /**
   * TEST-ONLY: after this long the source's timers stop re-arming without a word (state stays
   * `ok`), as a driver whose poll awaits forever would. The systemd watchdog test uses it.
   */
  stallAfter: duration().optional(),
}).superRefine((cfg, ctx) => {
  cfg.points.forEach((p, i) => {
    if (p.wave === 'constant' && p.value === undefined) {
      ctx.addIssue({ code: 'custom', path: ['points', i, 'value'], message: 'required for wave: constant' });
    }
    if (p.max < p.min) ctx.addIssue({ code: 'custom', path: ['points', i, 'max'], message: 'must be >= min' });
  });
});

export type SimConfig = z.output<typeof simSchema>;
type SimPoint = SimConfig['points'][number];

class PointGen {
  private state: number;
  constructor(private readonly p: SimPoint) {
    this.state = p.wave === 'walk' ? (p.min + p.max) / 2 : p.min;
  }
  next(now: number): number | boolean | string {
    const p = this.p;
    switch (p.wave) {
      case 'sine':
        return p.min + (p.max - p.min) * (0.5 + 0.5 * Math.sin((2 * Math.PI * now) / p.period));
      case 'step':
        return Math.floor(now / (p.period / 2)) % 2 === 0 ? p.min : p.max;
      case 'constant':
        return p.value as number | boolean | string;
      case 'counter': {
        const v = this.state;
        this.state += p.step ?? 1;
        return v;
      }
      case 'walk': {
        const step = p.step ?? (p.max - p.min) / 50;
        this.state = Math.min(p.max, Math.max(p.min, this.state + (Math.random() * 2 - 1) * step));
        return this.state;
      }
    }
  }
}

class SimDriver implements Driver {
  private timers: Periodic[] = [];
  constructor(private readonly cfg: SimConfig, private readonly ctx: SourceContext) {}

  async open(): Promise<void> {
    // One timer per distinct interval; points sharing an interval are polled together.
    const byInterval = new Map<number, { name: string; gen: PointGen }[]>();
    for (const p of this.cfg.points) {
      const iv = p.pollInterval ?? this.cfg.pollInterval;
      let list = byInterval.get(iv);
      if (!list) byInterval.set(iv, (list = []));
      list.push({ name: p.name, gen: new PointGen(p) });
    }
    const burst = this.cfg.burst;
    const stallAt = this.cfg.stallAfter === undefined ? Infinity : this.ctx.clock.mono() + this.cfg.stallAfter;
    for (const [iv, list] of byInterval) {
      const t = new Periodic(iv, () => {
        if (this.ctx.clock.mono() >= stallAt) return this.stall();
        const now = this.ctx.clock.now();
        for (let b = 0; b < burst; b++) {
          for (const { name, gen } of list) this.ctx.emit(name, gen.next(now), undefined, now);
        }
      }, this.ctx.clock);
      // First poll right away, as a real device driver does: data shows up as soon as the daemon runs.
      this.timers.push(t.start(0));
    }
    this.ctx.setState('ok');
  }

  private stall(): void {
    if (this.timers.length === 0) return;
    this.ctx.log.warn('sim: scheduler stalled on purpose (stallAfter, test-only)');
    for (const t of this.timers) t.stop();
    this.timers = [];
  }

  async close(): Promise<void> {
    for (const t of this.timers) t.stop();
    this.timers = [];
  }

  diagnostics(): Record<string, unknown> {
    return { timers: this.timers.length, skippedTicks: this.timers.reduce((s, t) => s + t.skipped, 0) };
  }
}

export const simDriver = defineDriver({
  name: 'sim',
  schema: simSchema,
  create: (cfg, ctx) => new SimDriver(cfg, ctx),
  pointNames: (cfg) => cfg.points.map((p) => p.name),
  // A constant may be a boolean or a string; every wave is a float.
  points: (cfg) => cfg.points.map((p) => ({ name: p.name, type: p.wave !== 'constant' || typeof p.value === 'number' ? 'float64' : typeof p.value === 'boolean' ? 'bool' : 'string' })),
});
