import type { Logger } from '../../core/log.js';
import { systemClock, type Clock } from '../../core/clock.js';
import type { Config } from '../config/schema.js';
import type { Reading } from '../../core/reading.js';
import type { UplinkHooks } from '../uplink/mqtt-uplink.js';
import { drivers } from '../../drivers/index.js';
import { SharedHost } from '../../drivers/host.js';
import { Periodic } from '../../core/periodic.js';
import { SourceRunner } from './source-runner.js';
import { VERSION } from '../version.js';
import { ClockSync } from '../clock-sync.js';
import { defaultParts, type AgentParts, type AgentOutbox, type AgentUplink, type AgentRouter } from './parts.js';
import { LinkStats } from './link-stats.js';
import { uplinkNeedsRebuild } from './reconfigure.js';

/** Which config is in force and from where (status, config/state, `config show`). */
export interface ConfigInfo {
  version: number; // 0 = the local file
  origin: string; // the local file's path, or `remote`
  hash: string;
}
import { LastValues, sparkplugDeps } from './sparkplug-deps.js';

export interface AgentOptions {
  log: Logger;
  clock?: Clock;
  /** Tells whether the wall clock is trusted (clock-sync detection); readings get `unsynced` otherwise. */
  clockUnsynced?: () => boolean;
  uplinkHooks?: UplinkHooks;
  /** The config's version, origin and hash (default: the file, version 0). */
  info?: Partial<ConfigInfo>;
  /** Factories of outbox, uplink and router (tests inject fakes). */
  parts?: Partial<AgentParts>;
}

export interface Applied { config: Config; info: ConfigInfo }

export interface ApplyResult {
  /** The uplink was rebuilt (a confirmation should watch it reach a broker). */
  uplinkChanged: boolean;
  /** What ran before: `apply(previous.config, previous.info)` rolls back. */
  previous: Applied;
  /** Readings counted per source when the new runners were built (proof of a new reading). */
  readingsAtApply: ReadonlyMap<string, number>;
}

/** How often the retained status document is refreshed (counters, drops). */
const STATUS_INTERVAL_MS = 60_000;
/** Pipeline time-based stages (aggregate windows) are ticked at this period. */
const PIPELINE_TICK_MS = 100;

/**
 * The running daemon: sources -> router (pipelines) -> outbox -> uplink, plus the timers that
 * flush the outbox and tick the pipelines. It owns its state: the outbox outlives config changes;
 * sources, pipelines and the uplink change only through apply(), which rolls back on failure.
 */
export class Agent {
  readonly startedAt: number;
  readonly clock: Clock;
  /** Driver state shared by this agent's sources and searched by the drivers' control hooks. */
  readonly driverHost = new SharedHost();
  /** Wall-clock trust (jumps, timesyncd); readings taken while untrusted carry `unsynced`. */
  readonly clockSync: ClockSync;
  private readonly parts: AgentParts;
  private readonly _outbox: AgentOutbox;
  private _config: Config;
  private _info: ConfigInfo;
  private _uplink: AgentUplink;
  private router: AgentRouter;
  private _sources: SourceRunner[] = [];
  private readonly _stageDrops = new Map<string, number>();
  /** Readings that reached the outbox, per source; survives config swaps (metrics). */
  private readonly _readingsOut = new Map<string, { n: number }>();
  /** Link counters across uplink swaps: what status and metrics both read. */
  readonly linkStats = new LinkStats(() => this._uplink.counters);
  private readonly tickTimer: Periodic;
  private readonly statusTimer: Periodic;
  private readonly unsynced: () => boolean;
  private stopping = false;
  /** Current value per source/point (Sparkplug DBIRTH). */
  private readonly lastValues = new LastValues();
  /** Only the Sparkplug profile reads last values (DBIRTH): the JSON profile pays nothing per reading. */
  private keepLastValues = false;
  private readonly sink = (r: Reading) => {
    this._outbox.add(r);
    if (this.keepLastValues) this.lastValues.set(r);
    let c = this._readingsOut.get(r.source);
    if (!c) this._readingsOut.set(r.source, (c = { n: 0 }));
    c.n++;
  };
  private readonly stageContext = {
    clock: systemClock as Clock,
    drop: (reason: string) => this._stageDrops.set(reason, (this._stageDrops.get(reason) ?? 0) + 1),
  };

  private constructor(config: Config, private readonly opts: AgentOptions) {
    this.clock = opts.clock ?? systemClock;
    this.stageContext.clock = this.clock;
    this.parts = { ...defaultParts, ...opts.parts };
    this.clockSync = new ClockSync({ clock: this.clock, log: opts.log.child({ part: 'clock' }) });
    this.unsynced = opts.clockUnsynced ?? this.clockSync.unsynced;
    this.startedAt = this.clock.now();
    this._config = config;
    this.keepLastValues = config.uplink.profile === 'sparkplug-b';
    this._info = { version: 0, origin: 'file', hash: '', ...opts.info };
    this._outbox = this.parts.outbox(config, opts.log.child({ part: 'outbox' }));
    this.router = this.parts.router(config, this.sink, this.stageContext);
    this._uplink = this.buildUplink(config);
    this.tickTimer = new Periodic(PIPELINE_TICK_MS, () => this.router.tick(), this.clock);
    this.statusTimer = new Periodic(STATUS_INTERVAL_MS, () => this._uplink.publishStatus(), this.clock);
  }

  /** Open the outbox, start sources and uplink. Resolves once everything is started (not connected). */
  static async start(config: Config, opts: AgentOptions): Promise<Agent> {
    const agent = new Agent(config, opts);
    // The outbox flushes on its own cadence (and cuts the first batch as soon as there is a link).
    agent._outbox.startFlushing({ flushInterval: config.buffer.flushInterval, maxDelay: config.uplink.batch.maxDelay }, {
      clock: agent.clock,
      linkUp: () => agent._uplink.linkState === 'connected',
      flushed: () => agent._uplink.kick(),
    });
    agent.tickTimer.start();
    agent.statusTimer.start();
    agent.clockSync.start();
    try {
      agent._sources = agent.createSources(config);
      await agent.openSources(agent._sources);
      agent._uplink.start();
    } catch (e) {
      // Nothing may keep running behind a failed start (sources polling, no uplink, no READY).
      await agent.stop().catch(() => {});
      throw e;
    }
    opts.log.info({ agent: config.agent.id, version: VERSION, sources: agent._sources.length, outbox: agent._outbox.file, backlog: agent._outbox.stats().readings }, 'edge-agent started');
    return agent;
  }

  get config(): Config { return this._config; }
  get info(): Readonly<ConfigInfo> { return this._info; }
  get outbox(): AgentOutbox { return this._outbox; }
  get uplink(): AgentUplink { return this._uplink; }
  get sources(): readonly SourceRunner[] { return this._sources; }
  get stageDrops(): ReadonlyMap<string, number> { return this._stageDrops; }
  get readingsOut(): ReadonlyMap<string, { readonly n: number }> { return this._readingsOut; }
  get log(): Logger { return this.opts.log; }
  get scheduler() { return { flush: this._outbox.flushTimer!, tick: this.tickTimer }; }

  private buildUplink(config: Config): AgentUplink {
    return this.parts.uplink(config, this._outbox, this.opts.log.child({ part: 'uplink' }), {
      ...this.opts.uplinkHooks,
      status: () => this.statusFields(),
      sparkplug: sparkplugDeps(config.agent.dataDir, () => this._sources, this.lastValues),
    });
  }

  /** Readings enter the router; sources are never blocked by a slow uplink. */
  private readonly toRouter = (r: Reading) => this.router.push(r);

  /** Runners for `config`; a source that stays (same id) carries its counters on. Throws on an unknown driver. */
  private createSources(config: Config): SourceRunner[] {
    const out: SourceRunner[] = [];
    for (const sc of config.sources as Config['sources']) {
      const s = sc as typeof sc & { id: string; driver: string; enabled: boolean };
      if (!s.enabled) continue;
      const def = drivers.find((d) => d.name === s.driver);
      if (!def) throw new Error(`sources.${s.id}: unknown driver ${s.driver}`);
      const runner = new SourceRunner(s, def, this.toRouter, this.opts.log, this.clock, config.agent.dataDir, this.unsynced, this.driverHost);
      const prev = this._sources.find((p) => p.id === s.id);
      if (prev) runner.inherit(prev);
      out.push(runner);
    }
    return out;
  }

  private async openSources(runners: readonly SourceRunner[]): Promise<void> {
    for (const r of runners) {
      try {
        await r.open();
      } catch (e) {
        // A driver that fails to open must not take the others down.
        r.ctx.error('open', `cannot start source: ${(e as Error).message}`);
        r.ctx.setState('down', (e as Error).message);
      }
    }
  }

  /**
   * Put `next` in force: sources, pipelines and (when its settings changed) the uplink. Whatever
   * can fail on bad input (driver lookup, stage construction) is built BEFORE anything running is
   * touched. If the swap itself throws, the previous config is put back and the error rethrown.
   * The outbox, its seq and counters, and per-source counters stay. SIGHUP and pushes both come here.
   */
  async apply(next: Config, info: ConfigInfo): Promise<ApplyResult> {
    const previous: Applied = { config: this._config, info: this._info };
    const router = this.parts.router(next, this.sink, this.stageContext);
    const runners = this.createSources(next);
    const readingsAtApply = new Map(runners.map((r) => [r.id, r.readingCount]));
    const uplinkChanged = uplinkNeedsRebuild(previous.config, next);
    try {
      await this.install(next, router, runners, uplinkChanged);
      this._info = { ...info };
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'config swap failed; restoring the previous config');
      await this.install(previous.config, this.parts.router(previous.config, this.sink, this.stageContext), this.createSources(previous.config), uplinkNeedsRebuild(this._config, previous.config));
      this._info = previous.info;
      throw e;
    }
    return { uplinkChanged, previous, readingsAtApply };
  }

  private async install(next: Config, router: AgentRouter, runners: SourceRunner[], newUplink: boolean): Promise<void> {
    // Old sources first: a serial port or GPIO line must be released before the new source opens it
    // (drivers persist pulse totals in dataDir on close).
    const prevUrl = this._config.uplink.mqtt.url;
    await Promise.allSettled(this._sources.map((s) => s.close()));
    // Stages hand over what they hold (aggregate's partial window) so nothing acquired is lost.
    this.router.flush();
    this.router = router;
    this._sources = runners;
    this._config = next;
    this.keepLastValues = next.uplink.profile === 'sparkplug-b';
    this._outbox.setLimits({ maxBytes: next.buffer.maxBytes, overflow: next.buffer.overflow, batch: next.uplink.batch, memoryLimitBytes: next.buffer.memoryMaxBytes, flushInterval: next.buffer.flushInterval });
    this.log.level = next.agent.logLevel;
    if (newUplink) {
      const old = this._uplink;
      // Same client id on the same broker would kick each other: the old one goes first. Its
      // unacknowledged batches stay in the outbox and the new uplink sends them (same seq).
      this._outbox.flush();
      // Moving brokers: tell the old one we left; same broker: the new birth message follows at once.
      await old.stop({ offline: prevUrl !== next.uplink.mqtt.url });
      this.linkStats.retire(old.counters);
      this._uplink = this.buildUplink(next);
      this._uplink.start();
    }
    await this.openSources(runners);
  }

  statusFields(): Record<string, unknown> {
    const o = this._outbox.stats();
    return {
      version: VERSION,
      startedAt: this.startedAt,
      configVersion: this._info.version,
      sources: this._sources.length,
      outbox: { stream: o.stream, readings: o.readings, bytes: o.payloadBytes, oldestTs: o.oldestTs, droppedOverflow: o.droppedOverflow, droppedThinned: o.droppedThinned, droppedMemory: o.droppedMemory, heldReadings: o.heldReadings, writeError: o.writeError },
    };
  }

  status() {
    const u = this._uplink;
    return {
      agent: this._config.agent.id,
      version: VERSION,
      pid: process.pid,
      startedAt: this.startedAt,
      config: { ...this._info },
      link: { state: u.linkState, since: this.clock.now() - u.stateAgeMs, inflight: u.inflightCount, ...this.linkStats.totals() },
      uplink: u.profileStatus(),
      outbox: this._outbox.stats(),
      stageDrops: Object.fromEntries(this._stageDrops),
      clock: this.clockSync.status(),
      sources: this._sources.map((s) => s.status()),
    };
  }

  /**
   * Clean shutdown: stop sources, let stages emit what they hold (aggregate's partial window),
   * commit everything to the outbox, say offline, disconnect. Nothing acquired is lost.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await Promise.allSettled(this._sources.map((s) => s.close()));
    this.router.flush();
    this._outbox.stopFlushing();
    this.tickTimer.stop();
    this.statusTimer.stop();
    this.clockSync.stop();
    this._outbox.flush();
    this._uplink.kick();
    await this._uplink.settle(1000);
    await this._uplink.stop();
    this._outbox.flush(); // commit the deletions of batches acknowledged while settling
    const o = this._outbox.stats();
    const produced = this._sources.reduce((n, s) => n + s.readingCount, 0);
    const { lost, written } = this._outbox.close();
    const fields = { backlog: o.readings, readingsProduced: produced, readingsIn: o.readingsIn, lost, stream: o.stream, nextSeq: o.nextSeq };
    // The truth about where unsent readings are: the outbox, or nowhere (the data dir refused them).
    const log = this.opts.log;
    if (lost > 0) log.error(fields, 'edge-agent stopped; readings held in memory are lost (the data dir refused writes)');
    else if (!written) log.warn(fields, 'edge-agent stopped; the outbox could not be written, but every reading was sent');
    else log.info(fields, 'edge-agent stopped; unsent readings stay in the outbox');
  }
}
