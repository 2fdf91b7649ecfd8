import type { Logger } from '../../core/log.js';
import { systemClock, type Clock } from '../../core/clock.js';
import type { Config } from '../config/schema.js';
import type { Reading } from '../../core/reading.js';
import { Outbox } from '../outbox/outbox.js';
import { MqttUplink, type UplinkHooks } from '../uplink/mqtt-uplink.js';
import { Router } from '../../pipelines/router.js';
import { drivers } from '../../drivers/index.js';
import { Periodic } from '../../core/periodic.js';
import { SourceRunner } from './source-runner.js';
import { VERSION } from '../version.js';
import { ClockSync } from '../clock-sync.js';

export interface AgentOptions {
  log: Logger;
  clock?: Clock;
  /** Tells whether the wall clock is trusted (clock-sync detection); readings get `unsynced` otherwise. */
  clockUnsynced?: () => boolean;
  uplinkHooks?: UplinkHooks;
  /** Which config is in force and from where (status). */
  configVersion?: number;
  configOrigin?: string;
  configHash?: string;
}

/** How often the retained status document is refreshed (counters, drops). */
const STATUS_INTERVAL_MS = 60_000;
/** Pipeline time-based stages (aggregate windows) are ticked at this period. */
const PIPELINE_TICK_MS = 100;

/**
 * The running daemon: sources -> router (pipelines) -> outbox -> uplink, plus the timers that
 * flush the outbox and tick the pipelines. The outbox outlives config changes; sources, pipelines
 * and the uplink are rebuilt from a Config.
 */
export class Agent {
  readonly startedAt: number;
  readonly outbox: Outbox;
  config: Config;
  configVersion: number;
  configOrigin: string;
  configHash: string;
  uplink: MqttUplink;
  /** Swapped by runtime/reconfigure.ts on a config change. */
  router: Router;
  sources: SourceRunner[] = [];
  readonly stageDrops = new Map<string, number>();
  /** Readings that reached the outbox, per source; survives config swaps (metrics). */
  readonly readingsOut = new Map<string, { n: number }>();
  /** Counters of uplinks replaced by config swaps, so totals never go backwards. */
  readonly uplinkBase = { connects: 0, disconnects: 0, batchesPublished: 0, batchesAcked: 0, bytesPublished: 0 };
  readonly clock: Clock;
  private readonly tickTimer: Periodic;
  private readonly statusTimer: Periodic;
  /** Wall-clock trust (jumps, timesyncd); readings taken while untrusted carry `unsynced`. */
  readonly clockSync: ClockSync;
  private readonly unsynced: () => boolean;
  private stopping = false;
  private readonly sink = (r: Reading) => {
    this.outbox.add(r);
    let c = this.readingsOut.get(r.source);
    if (!c) this.readingsOut.set(r.source, (c = { n: 0 }));
    c.n++;
  };

  private constructor(config: Config, private readonly opts: AgentOptions) {
    this.clock = opts.clock ?? systemClock;
    this.clockSync = new ClockSync({ clock: this.clock, log: opts.log.child({ part: 'clock' }) });
    this.unsynced = opts.clockUnsynced ?? this.clockSync.unsynced;
    this.startedAt = this.clock.now();
    this.config = config;
    this.configVersion = opts.configVersion ?? 0;
    this.configOrigin = opts.configOrigin ?? 'file';
    this.configHash = opts.configHash ?? '';
    const log = opts.log;
    this.outbox = new Outbox({
      agentId: config.agent.id,
      dataDir: config.agent.dataDir,
      maxBytes: config.buffer.maxBytes,
      overflow: config.buffer.overflow,
      memoryLimitBytes: config.buffer.memoryMaxBytes,
      deferWrites: true,
      batch: config.uplink.batch,
      log: log.child({ part: 'outbox' }),
    });
    this.router = this.buildRouter(config);
    this.uplink = this.buildUplink(config);
    this.tickTimer = new Periodic(PIPELINE_TICK_MS, () => this.router.tick(), this.clock);
    this.statusTimer = new Periodic(STATUS_INTERVAL_MS, () => this.uplink.publishStatus(), this.clock);
  }

  /** Open the outbox, start sources and uplink. Resolves once everything is started (not connected). */
  static async start(config: Config, opts: AgentOptions): Promise<Agent> {
    const agent = new Agent(config, opts);
    // The outbox flushes on its own cadence (and cuts the first batch as soon as there is a link).
    agent.outbox.startFlushing({ flushInterval: config.buffer.flushInterval, maxDelay: config.uplink.batch.maxDelay }, {
      clock: agent.clock,
      linkUp: () => agent.uplink.linkState === 'connected',
      flushed: () => agent.uplink.kick(),
    });
    agent.tickTimer.start();
    agent.statusTimer.start();
    agent.clockSync.start();
    agent.sources = await agent.startSources(config);
    agent.uplink.start();
    opts.log.info({ agent: config.agent.id, version: VERSION, sources: agent.sources.length, outbox: agent.outbox.file, backlog: agent.outbox.stats().readings }, 'edge-agent started');
    return agent;
  }

  get log(): Logger {
    return this.opts.log;
  }

  private stageContext() {
    return {
      clock: this.clock,
      drop: (reason: string) => this.stageDrops.set(reason, (this.stageDrops.get(reason) ?? 0) + 1),
    };
  }

  buildRouter(config: Config): Router {
    return new Router(config.pipelines, this.sink, this.stageContext());
  }

  buildUplink(config: Config): MqttUplink {
    return new MqttUplink(config.uplink, config.agent.id, this.outbox, this.opts.log.child({ part: 'uplink' }), {
      ...this.opts.uplinkHooks,
      status: () => this.statusFields(),
    });
  }

  /** Readings enter the router; sources are never blocked by a slow uplink. */
  private readonly toRouter = (r: Reading) => this.router.push(r);

  createSources(config: Config, previous: readonly SourceRunner[] = []): SourceRunner[] {
    const out: SourceRunner[] = [];
    for (const sc of config.sources as Config['sources']) {
      const s = sc as typeof sc & { id: string; driver: string; enabled: boolean };
      if (!s.enabled) continue;
      const def = drivers.find((d) => d.name === s.driver);
      if (!def) throw new Error(`sources.${s.id}: unknown driver ${s.driver}`);
      const runner = new SourceRunner(s, def, this.toRouter, this.opts.log, this.clock, config.agent.dataDir, this.unsynced);
      // Counters of a source that stays across a config swap carry on.
      const prev = previous.find((p) => p.id === s.id);
      if (prev) runner.inherit(prev);
      out.push(runner);
    }
    return out;
  }

  async startSources(config: Config): Promise<SourceRunner[]> {
    const runners = this.createSources(config);
    await this.openSources(runners);
    return runners;
  }

  async openSources(runners: readonly SourceRunner[]): Promise<void> {
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

  statusFields(): Record<string, unknown> {
    const o = this.outbox.stats();
    return {
      version: VERSION,
      startedAt: this.startedAt,
      configVersion: this.configVersion,
      sources: this.sources.length,
      outbox: { stream: o.stream, readings: o.readings, bytes: o.payloadBytes, oldestTs: o.oldestTs, droppedOverflow: o.droppedOverflow, droppedThinned: o.droppedThinned, droppedMemory: o.droppedMemory, heldReadings: o.heldReadings, writeError: o.writeError },
    };
  }

  status() {
    return {
      agent: this.config.agent.id,
      version: VERSION,
      pid: process.pid,
      startedAt: this.startedAt,
      config: { version: this.configVersion, origin: this.configOrigin, hash: this.configHash },
      link: { state: this.uplink.linkState, since: this.clock.now() - this.uplink.stateAgeMs, inflight: this.uplink.inflightCount, ...this.uplink.counters },
      outbox: this.outbox.stats(),
      stageDrops: Object.fromEntries(this.stageDrops),
      clock: this.clockSync.status(),
      sources: this.sources.map((s) => s.status()),
    };
  }

  get scheduler() {
    return { flush: this.outbox.flushTimer!, tick: this.tickTimer };
  }

  /**
   * Clean shutdown: stop sources, let stages emit what they hold (aggregate's partial window),
   * commit everything to the outbox, say offline, disconnect. Nothing acquired is lost.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const log = this.opts.log;
    await Promise.allSettled(this.sources.map((s) => s.close()));
    this.router.flush();
    this.outbox.stopFlushing();
    this.tickTimer.stop();
    this.statusTimer.stop();
    this.clockSync.stop();
    this.outbox.flush();
    this.uplink.kick();
    await this.uplink.settle(1000);
    await this.uplink.stop();
    this.outbox.flush(); // commit the deletions of batches acknowledged while settling
    const o = this.outbox.stats();
    const produced = this.sources.reduce((n, s) => n + s.readingCount, 0);
    const { lost, written } = this.outbox.close();
    const fields = { backlog: o.readings, readingsProduced: produced, readingsIn: o.readingsIn, lost, stream: o.stream, nextSeq: o.nextSeq };
    // The truth about where unsent readings are: the outbox, or nowhere (the data dir refused them).
    if (lost > 0) log.error(fields, 'edge-agent stopped; readings held in memory are lost (the data dir refused writes)');
    else if (!written) log.warn(fields, 'edge-agent stopped; the outbox could not be written, but every reading was sent');
    else log.info(fields, 'edge-agent stopped; unsent readings stay in the outbox');
  }
}
