import type { Logger } from '../../core/log.js';
import type { Clock } from '../../core/clock.js';
import type { Emit, Quality, Value } from '../../core/reading.js';
import type { SourceConfig } from '../config/schema.js';
import { WriteFailed, type Driver, type DriverDefinition, type DriverHost, type SourceContext, type SourceState, type WritableSpec } from '../../drivers/types.js';
import { SharedHost } from '../../drivers/host.js';
import { StateLog } from './state-log.js';

export interface SourceStatus {
  id: string;
  driver: string;
  state: SourceState;
  detail?: string;
  readings: number;
  lastReadingAt: number | null;
  errors: Record<string, number>;
  lastError?: { kind: string; message: string; point?: string; at: number };
  driverInfo?: Record<string, unknown>;
}

/** Errors of one kind are logged at most once per this interval (with the count since). */
const ERROR_LOG_INTERVAL_MS = 60_000;

/**
 * Runs one configured source: gives its driver a SourceContext, stamps and counts what it emits,
 * and keeps the error and state bookkeeping that `status`, metrics and /healthz read.
 */
export class SourceRunner {
  readonly id: string;
  private driver: Driver | undefined;
  private state: SourceState = 'starting';
  private detail: string | undefined;
  private readings = 0;
  private lastReadingAt: number | null = null;
  private readonly errors: Record<string, number> = {};
  private lastError: SourceStatus['lastError'];
  private readonly errorLog = new Map<string, { at: number; suppressed: number }>();
  private readonly stateLog: StateLog;
  /** Monotonic ms of the driver's last sign of life (emit, error, state change): watchdog progress. */
  lastActivity: number;
  readonly ctx: SourceContext;

  constructor(
    readonly config: SourceConfig,
    private readonly def: DriverDefinition,
    private readonly sink: Emit,
    private readonly log: Logger,
    private readonly clock: Clock,
    dataDir: string,
    /** Marks readings taken while the wall clock is not known to be right. */
    private readonly unsynced: () => boolean = () => false,
    /** The agent's shared driver state (Modbus buses, serial taps). */
    host: DriverHost = new SharedHost(),
  ) {
    this.id = config.id;
    this.lastActivity = clock.mono();
    const source = config.id;
    const self = this;
    const slog = log.child({ source });
    this.stateLog = new StateLog(slog, clock);
    this.ctx = {
      sourceId: source,
      log: slog,
      clock,
      dataDir,
      host,
      emit(point: string, value: Value, quality?: Quality, ts?: number) {
        self.readings++;
        self.lastActivity = clock.mono();
        const t = ts ?? clock.now();
        self.lastReadingAt = t;
        const unsynced = self.unsynced();
        sink(quality === undefined || quality === 'good'
          ? (unsynced ? { source, point, ts: t, value, unsynced } : { source, point, ts: t, value })
          : (unsynced ? { source, point, ts: t, value, quality, unsynced } : { source, point, ts: t, value, quality }));
      },
      error(kind: string, message: string, point?: string) {
        self.errors[kind] = (self.errors[kind] ?? 0) + 1;
        self.lastActivity = clock.mono();
        const at = clock.now();
        self.lastError = { kind, message, point, at };
        const key = point ? `${kind}:${point}` : kind;
        const prev = self.errorLog.get(key);
        const mono = clock.mono();
        if (!prev || mono - prev.at >= ERROR_LOG_INTERVAL_MS) {
          slog.warn({ kind, point, suppressed: prev?.suppressed || undefined }, message);
          self.errorLog.set(key, { at: mono, suppressed: 0 });
        } else prev.suppressed++;
      },
      setState(state: SourceState, detail?: string) {
        self.lastActivity = clock.mono();
        if (state === self.state && detail === self.detail) return;
        self.stateLog.change(state, detail);
        self.state = state;
        self.detail = detail;
      },
    };
  }

  async open(): Promise<void> {
    this.driver = this.def.create(this.config, this.ctx);
    await this.driver.open();
  }

  async close(): Promise<void> {
    const d = this.driver;
    this.driver = undefined;
    if (d) await d.close();
    this.state = 'stopped';
    this.stateLog.close();
  }

  /** Point names the config gives this source; undefined when the driver cannot tell. */
  pointNames(): string[] | undefined {
    return this.def.pointNames?.(this.config as never);
  }

  /** The point's write rule from the config (SPEC "Commands"); undefined = read-only. */
  writable(point: string): WritableSpec | undefined {
    return this.def.writable?.(this.config as never, point);
  }

  /** A validated write through the running driver; rejects with WriteFailed when it cannot run. */
  async write(point: string, value: Value): Promise<Value | undefined> {
    const d = this.driver;
    if (!d) throw new WriteFailed(`source "${this.id}" is not running`);
    if (!d.write) throw new WriteFailed(`driver ${this.config.driver} cannot write`);
    return d.write(point, value);
  }

  /** Carry the counters of the runner this one replaces (config swap): totals never go backwards. */
  inherit(prev: SourceRunner): void {
    this.readings = prev.readings;
    this.lastReadingAt = prev.lastReadingAt;
    Object.assign(this.errors, prev.errors);
    this.lastError = prev.lastError;
  }

  status(): SourceStatus {
    let driverInfo: Record<string, unknown> | undefined;
    try {
      driverInfo = this.driver?.diagnostics?.();
    } catch {
      driverInfo = undefined;
    }
    return {
      id: this.id,
      driver: this.config.driver,
      state: this.state,
      detail: this.detail,
      readings: this.readings,
      lastReadingAt: this.lastReadingAt,
      errors: { ...this.errors },
      lastError: this.lastError,
      driverInfo,
    };
  }

  get errorCounts(): Readonly<Record<string, number>> {
    return this.errors;
  }

  get readingCount(): number {
    return this.readings;
  }

  /** The source's poll period when its driver has one (event-driven sources have none). */
  get pollIntervalMs(): number | undefined {
    const p = (this.config as { pollInterval?: unknown }).pollInterval;
    return typeof p === 'number' && p > 0 ? p : undefined;
  }

  get currentState(): SourceState {
    return this.state;
  }
}
