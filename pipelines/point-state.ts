/**
 * Per source/point state for stages, bounded and evictable.
 *
 * Keyed by nested Maps (source -> point -> state) so the hot path never builds a
 * "source/point" string. Each state carries the sweep generation it was last used in: `touch`
 * is an integer store, not a clock read. `sweep()` (called from a stage's tick) advances the
 * generation once per `sweepEveryMs` of monotonic time and evicts states unused for
 * `idleSweeps` generations, so points that vanished from the config (or from a chatty serial
 * parser) do not pin memory. `maxEntries` is a hard cap: past it new points get no state and
 * the stage falls back to stateless behaviour (counted by the stage).
 */
export interface Keyed {
  /** Sweep generation of the last use. */
  gen: number;
}

export interface PointStateOptions {
  maxEntries?: number;
  /** Monotonic ms between sweeps. */
  sweepEveryMs?: number;
  /** A state unused for this many whole sweeps is dropped. */
  idleSweeps?: number;
}

export const DEFAULT_MAX_ENTRIES = 50_000;

export class PointStates<S extends Keyed> {
  private readonly bySource = new Map<string, Map<string, S>>();
  private count = 0;
  gen = 0;
  private nextSweep = Number.NaN;
  readonly maxEntries: number;
  readonly sweepEveryMs: number;
  readonly idleSweeps: number;
  // One-entry cache: consecutive readings of the same point (bursts, bench) skip both lookups.
  private lastSource: string | undefined;
  private lastPoint: string | undefined;
  private lastState: S | undefined;

  constructor(opts: PointStateOptions = {}) {
    this.maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.sweepEveryMs = opts.sweepEveryMs ?? 60_000;
    this.idleSweeps = opts.idleSweeps ?? 10;
  }

  get size(): number {
    return this.count;
  }

  /** The state of source/point, or undefined. Marks it used. */
  get(source: string, point: string): S | undefined {
    if (source === this.lastSource && point === this.lastPoint && this.lastState !== undefined) {
      this.lastState.gen = this.gen;
      return this.lastState;
    }
    const s = this.bySource.get(source)?.get(point);
    if (s !== undefined) {
      s.gen = this.gen;
      this.lastSource = source;
      this.lastPoint = point;
      this.lastState = s;
    }
    return s;
  }

  /** Adds a state; false (not stored) when the cap is reached. */
  add(source: string, point: string, s: S): boolean {
    if (this.count >= this.maxEntries) return false;
    let m = this.bySource.get(source);
    if (m === undefined) this.bySource.set(source, (m = new Map()));
    if (!m.has(point)) this.count++;
    m.set(point, s);
    s.gen = this.gen;
    this.lastSource = source;
    this.lastPoint = point;
    this.lastState = s;
    return true;
  }

  delete(source: string, point: string): void {
    const m = this.bySource.get(source);
    if (m?.delete(point)) {
      this.count--;
      if (m.size === 0) this.bySource.delete(source);
    }
    if (source === this.lastSource && point === this.lastPoint) this.lastState = undefined;
  }

  forEach(fn: (s: S, source: string, point: string) => void): void {
    for (const [source, m] of this.bySource) for (const [point, s] of m) fn(s, source, point);
  }

  /**
   * Call from tick(). Every `sweepEveryMs` (monotonic) starts a new generation and evicts
   * states idle for `idleSweeps` generations; `keep` may veto eviction (e.g. an open window).
   * Returns the number evicted.
   */
  sweep(mono: number, keep?: (s: S) => boolean): number {
    if (Number.isNaN(this.nextSweep)) this.nextSweep = mono + this.sweepEveryMs;
    if (mono < this.nextSweep) return 0;
    this.nextSweep = mono + this.sweepEveryMs;
    this.gen++;
    const oldest = this.gen - this.idleSweeps;
    let evicted = 0;
    for (const [source, m] of this.bySource) {
      for (const [point, s] of m) {
        if (s.gen < oldest && !(keep?.(s) ?? false)) {
          m.delete(point);
          evicted++;
        }
      }
      if (m.size === 0) this.bySource.delete(source);
    }
    this.count -= evicted;
    this.lastState = undefined;
    return evicted;
  }

  clear(): void {
    this.bySource.clear();
    this.count = 0;
    this.lastState = undefined;
  }
}
