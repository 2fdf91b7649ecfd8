import { WriteFailed, type SourceContext } from '../types.js';
import type { GpioBackend, GpioLine, WatchMode } from './backend.js';
import { Backoff } from '../../core/backoff.js';
import { Debouncer, edgeMatches } from './debounce.js';
import { PulseCounter } from './counter.js';
import { pinEdge, type PinConfig } from './config.js';

export interface PinOptions {
  pollIntervalMs: number;
  /** CLI beside a running daemon: do not reconfigure a line someone else exported. */
  readOnlyIfShared?: boolean;
  /** Called whenever this pin opens or fails, so the source can recompute its state. */
  onHealth: () => void;
}

/**
 * One configured pin: opens its line through the backend (retrying with backoff), debounces the
 * levels the backend reports, and turns accepted changes into readings (input) or pulses (counter).
 */
export class PinRunner {
  readonly edge: 'rising' | 'falling' | 'both';
  readonly debouncer: Debouncer;
  readonly counter: PulseCounter | undefined;
  line: GpioLine | undefined;
  watchMode: WatchMode | undefined;
  lastError: string | undefined;
  /** Accepted changes (after debounce), matching the edge or not. */
  changes = 0;
  private settleTimer: NodeJS.Timeout | undefined;
  private silenceTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly backoff = new Backoff(1000, 30_000);
  /** activeLow as an XOR mask on the physical level. */
  private readonly invert: 0 | 1;
  private closed = false;
  /** direction out: the logical level to drive (initial, then the last command's); kept across a reopen. */
  private outLevel: 0 | 1;

  constructor(readonly pin: PinConfig, private readonly ctx: SourceContext, private readonly backend: GpioBackend, private readonly opts: PinOptions, initialPulses = 0) {
    this.edge = pinEdge(pin);
    this.invert = pin.activeLow ? 1 : 0;
    this.debouncer = new Debouncer(pin.debounce);
    this.counter = pin.mode === 'counter' ? new PulseCounter(initialPulses, pin.scale) : undefined;
    this.outLevel = pin.initial ?? 0;
  }

  get isOutput(): boolean {
    return this.pin.direction === 'out';
  }

  get open(): boolean {
    return this.line !== undefined;
  }

  async start(): Promise<void> {
    if (this.closed) return;
    const p = this.pin;
    let line: GpioLine | undefined;
    try {
      const r = await this.backend.resolve(p.line);
      const output = this.isOutput ? { initial: (this.outLevel ^ this.invert) as 0 | 1 } : undefined;
      line = await this.backend.open(r, { pollIntervalMs: this.opts.pollIntervalMs, readOnlyIfShared: this.opts.readOnlyIfShared, output });
      if (this.closed) {
        line.close();
        return;
      }
      this.debouncer.reset((line.read() ^ this.invert) as 0 | 1);
    } catch (e) {
      line?.close();
      this.fail(`cannot open line ${p.line}: ${(e as Error).message}`);
      return;
    }
    this.line = line;
    this.lastError = undefined;
    this.backoff.reset();
    const r = line.resolved;
    const where = { pin: p.name, line: p.line, gpio: r.number, chip: r.chipLabel, backend: this.backend.name };
    if (this.isOutput) {
      // An output is not watched: its level changes only by our writes, each reported as it is read back.
      this.ctx.log.info({ ...where, level: this.debouncer.level }, `gpio ${p.name}: line ${p.line} is gpio${r.number} on ${r.chipLabel}, output at ${this.debouncer.level}`);
      this.emitLevel(this.ctx.clock.now());
      this.opts.onHealth();
      return;
    }
    this.watchMode = line.watch(this.onLevel, this.onError);
    if (this.watchMode.mode === 'interrupt') this.ctx.log.info(where, `gpio ${p.name}: line ${p.line} is gpio${r.number} on ${r.chipLabel}, edge interrupts`);
    else this.ctx.log.warn({ ...where, reason: this.watchMode.reason, pollInterval: this.opts.pollIntervalMs }, `gpio ${p.name}: ${this.watchMode.reason}; falling back to polling the value every ${this.opts.pollIntervalMs} ms`);
    if (!this.counter) this.emitLevel(this.ctx.clock.now());
    this.opts.onHealth();
  }

  private readonly onLevel = (physical: 0 | 1): void => {
    const level = (physical ^ this.invert) as 0 | 1;
    const t = this.ctx.clock.mono();
    if (this.debouncer.input(level, t)) this.accept(level, t);
    else this.armSettle();
  };

  private readonly onError = (e: Error): void => {
    this.fail(`read failed on line ${this.pin.line}: ${e.message}`);
  };

  private armSettle(): void {
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
    const due = this.debouncer.deadline();
    if (due === undefined) return;
    this.settleTimer = setTimeout(this.onSettle, Math.max(0, due - this.ctx.clock.mono()));
  }

  private readonly onSettle = (): void => {
    this.settleTimer = undefined;
    const since = this.debouncer.pendingSince;
    if (this.debouncer.settle(this.ctx.clock.mono())) this.accept(this.debouncer.level, since);
    else this.armSettle(); // timer fired early
  };

  /** An accepted change to `level`, first seen at monotonic time `at`. */
  private accept(level: 0 | 1, at: number): void {
    this.changes++;
    if (!edgeMatches(this.edge, level)) return;
    if (this.counter) {
      this.counter.pulse();
      return;
    }
    // Stamp with when the change was first seen, not when debouncing confirmed it.
    this.emitLevel(Math.round(this.ctx.clock.now() - (this.ctx.clock.mono() - at)));
  }

  /** A command's write to an output: drive the line, read it back, report the level. Returns the read-back level. */
  write(on: boolean): boolean {
    if (!this.isOutput) throw new WriteFailed(`${this.pin.name}: line ${this.pin.line} is an input`);
    const l = this.line;
    if (!l?.write) throw new WriteFailed(`${this.pin.name}: line ${this.pin.line} is not open${this.lastError ? ` (${this.lastError})` : ''}`);
    const logical = on ? 1 : 0;
    let back: 0 | 1;
    try {
      l.write((logical ^ this.invert) as 0 | 1);
      back = (l.read() ^ this.invert) as 0 | 1;
    } catch (e) {
      throw new WriteFailed(`${this.pin.name}: writing line ${this.pin.line} failed: ${(e as Error).message}`);
    }
    this.outLevel = logical;
    this.debouncer.reset(back);
    this.emitLevel(this.ctx.clock.now());
    return back === 1;
  }

  private emitLevel(ts: number): void {
    this.ctx.emit(this.pin.name, this.debouncer.level === 1, undefined, ts);
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    // A flat line is still reported: the current level at least every maxSilence.
    this.silenceTimer = setTimeout(this.onSilence, this.pin.maxSilence);
  }

  private readonly onSilence = (): void => {
    this.silenceTimer = undefined;
    if (this.line) this.emitLevel(this.ctx.clock.now());
  };

  private fail(message: string): void {
    this.lastError = message;
    const wasOpen = this.line !== undefined;
    this.ctx.error(wasOpen ? 'read' : 'open', `${this.pin.name}: ${message}`, this.pin.name);
    this.release();
    if (wasOpen && this.pin.mode === 'input') {
      // Tell the consumer the level is unknown rather than letting the last one stand.
      this.ctx.emit(this.pin.name, this.debouncer.level === 1, 'bad');
    }
    if (!this.closed) {
      const delay = this.backoff.next();
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        void this.start();
      }, delay);
    }
    this.opts.onHealth();
  }

  private release(): void {
    if (this.settleTimer) clearTimeout(this.settleTimer);
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    this.settleTimer = this.silenceTimer = undefined;
    const l = this.line;
    this.line = undefined;
    this.watchMode = undefined;
    try {
      l?.close();
    } catch {
      /* releasing a broken line: nothing more to do */
    }
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.release();
  }

  diagnostics(): Record<string, unknown> {
    return {
      line: this.pin.line,
      gpio: this.line?.resolved.number,
      mode: this.pin.mode,
      direction: this.pin.direction,
      open: this.open,
      watch: this.watchMode?.mode,
      level: this.open ? this.debouncer.level : undefined,
      changes: this.changes,
      pulses: this.counter?.pulses,
      lastError: this.lastError,
    };
  }
}
