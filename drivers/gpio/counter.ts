/**
 * Pulse totals and rates. Pulses are kept as a raw integer count (the meter's truth, persisted);
 * `scale` applies only on output, so changing it in the config rescales the whole history
 * consistently instead of mixing units.
 */
export class PulseCounter {
  private lastTickPulses: number;
  private lastTickAt: number | undefined;

  constructor(public pulses: number, private readonly scale: number) {
    this.lastTickPulses = pulses;
  }

  pulse(): void {
    this.pulses++;
  }

  /** Scaled total. */
  total(): number {
    return tidy(this.pulses * this.scale);
  }

  /** Start the rate window at monotonic time `t` (at open). */
  start(t: number): void {
    this.lastTickAt = t;
    this.lastTickPulses = this.pulses;
  }

  /**
   * Close a rate window at monotonic time `t`: scaled units per second over the actual elapsed
   * time (a late or skipped tick does not inflate the rate). Undefined for an empty window.
   */
  tick(t: number): number | undefined {
    const from = this.lastTickAt;
    const delta = this.pulses - this.lastTickPulses;
    this.lastTickAt = t;
    this.lastTickPulses = this.pulses;
    if (from === undefined || !(t > from)) return undefined;
    return tidy((delta * this.scale * 1000) / (t - from));
  }
}

/** 0.1 * 3 is 0.30000000000000004: keep 12 significant digits so totals look like the meter's. */
export function tidy(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(12)) : x;
}
