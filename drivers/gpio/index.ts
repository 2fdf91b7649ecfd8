import { defineDriver, WriteFailed, type Driver, type SourceContext } from '../types.js';
import type { Value } from '../../core/reading.js';
import { registerGpioCli } from './cli/index.js';
import { Periodic } from '../../core/periodic.js';
import type { GpioBackend } from './backend.js';
import { chooseBackend } from './choose.js';
import { gpioSchema, pinPoints, type GpioConfig } from './config.js';
import { PinRunner } from './pin.js';
import type { PointDescriptor } from '../../core/points.js';
import { CounterStore, CounterStateError, type CounterState } from './store.js';

export { gpioSchema, type GpioConfig } from './config.js';

export interface GpioDriverOptions {
  /** Inject a backend (tests, other platforms); default: chosen from the config. */
  backend?: GpioBackend;
  /** How long open() waits for the pins before returning (they keep opening in the background). */
  openWaitMs?: number;
}

/** `driver: gpio`. See drivers/gpio/README.md. */
export class GpioDriver implements Driver {
  private pins: PinRunner[] = [];
  private timers: Periodic[] = [];
  private store: CounterStore | undefined;
  private saved = new Map<string, number>();
  private backendName = '';
  private stopped = false;

  constructor(private readonly cfg: GpioConfig, private readonly ctx: SourceContext, private readonly opts: GpioDriverOptions = {}) {}

  async open(): Promise<void> {
    this.stopped = false;
    let backend: GpioBackend;
    try {
      backend = this.opts.backend ?? await chooseBackend(this.cfg, this.ctx.log);
    } catch (e) {
      this.ctx.error('config', `gpio backend: ${(e as Error).message}`);
      this.ctx.setState('down', (e as Error).message);
      return;
    }
    this.backendName = backend.name;

    const counters = this.cfg.pins.filter((p) => p.mode === 'counter');
    let totals: Record<string, number> = {};
    if (counters.length) {
      this.store = new CounterStore(this.ctx.dataDir, this.ctx.sourceId);
      try {
        totals = this.store.load();
      } catch (e) {
        if (!(e instanceof CounterStateError)) throw e;
        const kept = this.store.quarantine();
        this.ctx.error('state', `${e.message}; counting restarts at 0${kept ? ` (old file kept as ${kept})` : ''}`);
      }
    }

    const onHealth = () => this.updateState();
    this.pins = this.cfg.pins.map((p) => new PinRunner(p, this.ctx, backend, { pollIntervalMs: this.cfg.pollInterval, onHealth }, totals[p.name] ?? 0));
    for (const r of this.pins) if (r.counter) this.saved.set(r.pin.name, r.counter.pulses);
    // The runtime opens sources one after another: a line stuck in export (udev, a missing
    // kernel) must not hold the others up for long. Pins still opening finish in the background.
    let waited: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.pins.map((r) => r.start())),
      new Promise((r) => (waited = setTimeout(r, this.opts.openWaitMs ?? 2000))),
    ]);
    clearTimeout(waited);
    if (this.stopped) return;

    if (counters.length) {
      const now = this.ctx.clock.now();
      const mono = this.ctx.clock.mono();
      for (const r of this.pins) {
        if (!r.counter) continue;
        r.counter.start(mono);
        // The total right away, so a restart shows up with the persisted value.
        this.ctx.emit(r.pin.name, r.counter.total(), undefined, now);
      }
      const byInterval = new Map<number, PinRunner[]>();
      for (const r of this.pins) {
        if (!r.counter) continue;
        const iv = r.pin.interval ?? this.cfg.interval;
        let list = byInterval.get(iv);
        if (!list) byInterval.set(iv, (list = []));
        list.push(r);
      }
      for (const [iv, list] of byInterval) this.timers.push(new Periodic(iv, () => this.emitCounters(list), this.ctx.clock).start());
      this.timers.push(new Periodic(this.cfg.persistInterval, () => void this.persist(), this.ctx.clock).start());
    }
    this.updateState();
  }

  private emitCounters(list: PinRunner[]): void {
    const now = this.ctx.clock.now();
    const mono = this.ctx.clock.mono();
    for (const r of list) {
      const c = r.counter!;
      const rate = c.tick(mono);
      // While the line is down pulses may be missed: the total is then only a lower bound.
      const q = r.open ? undefined : 'uncertain';
      this.ctx.emit(r.pin.name, c.total(), q, now);
      if (rate !== undefined && r.open) this.ctx.emit(`${r.pin.name}.rate`, rate, undefined, now);
    }
  }

  /** Write the totals if any changed since the last write. */
  private async persist(): Promise<void> {
    if (!this.store) return;
    let changed = false;
    const pins: CounterState['pins'] = {};
    for (const r of this.pins) {
      if (!r.counter) continue;
      pins[r.pin.name] = { pulses: r.counter.pulses, line: r.pin.line };
      if (this.saved.get(r.pin.name) !== r.counter.pulses) changed = true;
    }
    if (!changed) return;
    const snapshot = new Map(Object.entries(pins).map(([k, v]) => [k, v.pulses]));
    try {
      await this.store.save(pins, this.ctx.clock.now());
      for (const [k, v] of snapshot) this.saved.set(k, v);
    } catch (e) {
      this.ctx.error('persist', `cannot save pulse totals to ${this.store.file}: ${(e as Error).message}`);
    }
  }

  private updateState(): void {
    if (this.stopped) return;
    const down = this.pins.filter((r) => !r.open);
    if (down.length === 0) this.ctx.setState('ok');
    else this.ctx.setState(down.length === this.pins.length ? 'down' : 'backing-off', down.map((r) => `${r.pin.name}: ${r.lastError ?? 'opening'}`).join('; '));
  }

  async close(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) t.stop();
    this.timers = [];
    for (const r of this.pins) r.close();
    // Pulses since the last periodic write must not be lost on a clean stop.
    await this.persist();
    this.pins = [];
  }

  /** A command's write to an output pin (drivers/types.ts); resolves with the level read back. */
  async write(point: string, value: Value): Promise<Value | undefined> {
    const r = this.pins.find((x) => x.pin.name === point);
    if (!r) throw new WriteFailed(`no pin "${point}"`);
    if (typeof value !== 'boolean') throw new WriteFailed(`${point}: expected true or false`);
    return r.write(value);
  }

  diagnostics(): Record<string, unknown> {
    return {
      backend: this.backendName,
      pins: Object.fromEntries(this.pins.map((r) => [r.pin.name, r.diagnostics()])),
      totalsFile: this.store?.file,
    };
  }
}

export const gpioDriver = defineDriver({
  name: 'gpio',
  schema: gpioSchema,
  create: (cfg, ctx) => new GpioDriver(cfg, ctx),
  pointNames: (cfg) => cfg.pins.flatMap(pinPoints),
  writable: (cfg, point) => (cfg.pins.some((p) => p.name === point && p.direction === 'out') ? { type: 'bool' } : undefined),
  // An input is its level; a counter is a running total plus a rate.
  points: (cfg) => cfg.pins.flatMap<PointDescriptor>((p) => (p.mode === 'counter' ? [{ name: p.name, type: 'uint64' as const }, { name: `${p.name}.rate`, type: 'float64' as const }] : [{ name: p.name, type: 'bool' as const }])),
  cli: registerGpioCli,
});
