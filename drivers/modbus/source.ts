import type { Driver, SourceContext } from '../types.js';
import type { Value } from '../../core/reading.js';
import { writePoint } from './write.js';
import { Bus, type BusClient, type IntervalGroup, type Job } from './bus.js';
import { busRegistry } from './bus-registry.js';
import type { ModbusConfig, PointConfig } from './config.js';
import { compileDecoder, type Decoder } from './decode.js';
import type { ModbusRequestError } from './errors.js';
import { plan, describeRequest, type PlanPoint } from './planner.js';
import { RtuTransport, charTimeMs } from './rtu-transport.js';
import { TcpTransport, type SocketFactory } from './tcp-transport.js';
import type { PortFactory } from '../serialport-loader.js';
import { isBitTable, registerWidth } from './types.js';

/** A configured point, ready for planning and decoding. */
export interface CompiledPoint extends PlanPoint {
  name: string;
  decode: Decoder;
  /** Mask bit of its interval group. */
  groupBit: number;
  exceptions: number;
}

export function compilePoint(p: PointConfig, defaultUnit: number, groupBit = 1): CompiledPoint {
  const bits = isBitTable(p.table);
  const type = p.type ?? (bits ? 'bool' : 'uint16');
  return {
    name: p.name,
    unitId: p.unitId ?? defaultUnit,
    table: p.table,
    address: p.address,
    width: bits ? 1 : registerWidth(type, p.count),
    decode: compileDecoder({ ...p, type }),
    groupBit,
    exceptions: 0,
  };
}

/** Upper bound of cached plans per source (one per combination of due intervals). */
const PLAN_CACHE_MAX = 256;

/**
 * One modbus-rtu or modbus-tcp source: its points, grouped by poll interval, attached to the
 * shared bus of its port or host:port. Readings are stamped when the answer arrives.
 */
export class ModbusSource implements Driver, BusClient {
  readonly groups: IntervalGroup[] = [];
  readonly timeout: number;
  readonly retries: number;
  readonly interFrameDelay: number;
  overruns = 0;
  skippedSlots = 0;
  private readonly points: CompiledPoint[];
  private readonly plans = new Map<number, Job<CompiledPoint>[]>();
  private bus: Bus | undefined;
  private busUp = false;
  private busDetail = 'connecting';
  private outage = false;
  private readonly units: number[];
  private readonly timeouts = new Map<number, number>();

  constructor(
    private readonly cfg: ModbusConfig,
    private readonly ctx: SourceContext,
    /** How the bus's port or socket is made (real by default; mocks in unit tests). */
    private readonly io: { makePort?: PortFactory; connect?: SocketFactory } = {},
  ) {
    this.timeout = cfg.timeout;
    this.retries = cfg.retries;
    this.interFrameDelay = cfg.interFrameDelay ??
      (cfg.driver === 'modbus-rtu' ? Math.ceil(3.5 * charTimeMs(cfg)) : 0);
    const intervals = [...new Set(cfg.points.map((p) => p.pollInterval ?? cfg.pollInterval))].sort((a, b) => a - b);
    if (intervals.length > 30) throw new Error('more than 30 distinct pollInterval values in one source');
    intervals.forEach((interval, i) => this.groups.push({ interval, bit: 1 << i, nextDue: 0 }));
    this.points = cfg.points.map((p) => compilePoint(p, cfg.unitId, 1 << intervals.indexOf(p.pollInterval ?? cfg.pollInterval)));
    this.units = [...new Set(this.points.map((p) => p.unitId))].sort((a, b) => a - b);
  }

  async open(): Promise<void> {
    const { cfg, ctx } = this;
    const clock = ctx.clock;
    try {
      if (cfg.driver === 'modbus-rtu') {
        const s = { path: cfg.port, baudRate: cfg.baudRate, parity: cfg.parity, dataBits: cfg.dataBits, stopBits: cfg.stopBits };
        this.bus = busRegistry(ctx.host).acquire(`rtu:${cfg.port}`, JSON.stringify(s), ctx.sourceId,
          () => new Bus(`rtu:${cfg.port}`, new RtuTransport(s, { clock, makePort: this.io.makePort }), clock));
      } else {
        const key = `tcp:${cfg.host}:${cfg.port}`;
        this.bus = busRegistry(ctx.host).acquire(key, '{}', ctx.sourceId,
          () => new Bus(key, new TcpTransport(cfg.host, cfg.port, { clock, connect: this.io.connect }), clock));
      }
    } catch (e) {
      this.ctx.error('config', (e as Error).message);
      this.ctx.setState('down', (e as Error).message);
      return;
    }
    this.ctx.setState('starting', `connecting to ${this.bus.transport.label}`);
    this.bus.attach(this);
  }

  async close(): Promise<void> {
    const bus = this.bus;
    this.bus = undefined;
    if (bus) await busRegistry(this.ctx.host).release(bus, this);
  }

  /** The requests one cycle makes when every point is due. */
  fullPlan(): Job<CompiledPoint>[] {
    return this.planFor(this.groups.reduce((m, g) => m | g.bit, 0));
  }

  planFor(mask: number): Job<CompiledPoint>[] {
    let jobs = this.plans.get(mask);
    if (jobs) return jobs;
    const due = this.points.filter((p) => (p.groupBit & mask) !== 0);
    jobs = plan(due, this.cfg).map((r) => ({ ...r, client: this, queued: false }));
    if (this.plans.size >= PLAN_CACHE_MAX) this.plans.clear();
    this.plans.set(mask, jobs);
    return jobs;
  }

  onData(job: Job, data: Buffer, ts: number): void {
    if (!this.bus) return; // closed while its last request was on the wire
    const bits = isBitTable(job.table);
    for (const m of (job as Job<CompiledPoint>).members) {
      let v;
      try {
        v = m.point.decode(data, bits ? m.at : m.at * 2);
      } catch (e) {
        this.ctx.error('decode', `${m.point.name}: ${(e as Error).message}`, m.point.name);
        continue;
      }
      if (typeof v === 'number' && !Number.isFinite(v)) {
        this.ctx.error('decode', `${m.point.name}: decoded ${v} (check type and byte/word order)`, m.point.name);
        continue;
      }
      this.ctx.emit(m.point.name, v, undefined, ts);
    }
  }

  onFailure(job: Job, err: ModbusRequestError, attempts: number, retryInMs?: number): void {
    const what = describeRequest(job);
    const members = (job as Job<CompiledPoint>).members;
    if (err.kind === 'exception') {
      for (const m of members) {
        m.point.exceptions++;
        const backoff = retryInMs === undefined ? '' : `; unit ${job.unitId} backed off, next try in ${(retryInMs / 1000).toFixed(1)} s`;
        this.ctx.error('modbus-exception', `${m.point.name}: ${what}: ${err.message}${backoff}`, m.point.name);
      }
      if (retryInMs !== undefined) {
        this.timeouts.set(job.unitId, (this.timeouts.get(job.unitId) ?? 0) + 1);
        this.updateState();
      }
      if (err.code === 2 && members.length > 1) {
        // One bad address refuses the whole merged read: read these points one by one from now
        // on, so the valid ones keep flowing and the bad one is pinned down by name.
        for (const m of members) m.point.isolated = true;
        this.plans.clear();
        this.ctx.log.warn({ points: members.map((m) => m.point.name) },
          `${what} refused as a whole (illegal data address): reading its points one by one`);
      }
      return;
    }
    this.timeouts.set(job.unitId, (this.timeouts.get(job.unitId) ?? 0) + 1);
    const retry = retryInMs === undefined ? '' : `; unit ${job.unitId} backed off, next try in ${(retryInMs / 1000).toFixed(1)} s`;
    this.ctx.error(err.kind, `${what}: ${err.message} (${attempts} attempt${attempts === 1 ? '' : 's'})${retry}`);
    this.updateState();
  }

  onBusState(up: boolean, detail: string): void {
    this.busUp = up;
    this.busDetail = detail;
    // Counted once per outage (lost, or never there at start), not once per reconnect attempt.
    if (!up && !this.outage) this.ctx.error('disconnected', detail);
    this.outage = !up;
    this.updateState();
  }

  onUnitState(): void {
    this.updateState();
  }

  private updateState(): void {
    const bus = this.bus;
    if (!bus) return;
    if (!this.busUp) {
      this.ctx.setState(this.busDetail.startsWith('connecting') ? 'starting' : 'down', this.busDetail);
      return;
    }
    const dead = this.units.filter((u) => bus.breakers.get(u)?.open);
    if (dead.length === 0) this.ctx.setState('ok');
    else if (dead.length === this.units.length) this.ctx.setState('down', `no answer from unit${dead.length > 1 ? 's' : ''} ${dead.join(', ')}`);
    else this.ctx.setState('backing-off', `no answer from unit${dead.length > 1 ? 's' : ''} ${dead.join(', ')}`);
  }

  /** A command's write (drivers/types.ts): on this bus's queue, between polls; resolves with the read-back value. */
  async write(point: string, value: Value): Promise<Value | undefined> {
    const cfg = this.cfg.points.find((p) => p.name === point);
    const compiled = this.points.find((p) => p.name === point);
    const v = await writePoint(this.bus, this.cfg, cfg, compiled, value, this.ctx);
    if (v !== undefined) this.ctx.emit(point, v);
    return v;
  }

  diagnostics(): Record<string, unknown> {
    const bus = this.bus;
    const now = this.ctx.clock.mono();
    const units: Record<string, unknown> = {};
    for (const u of this.units) {
      const b = bus?.breakers.get(u);
      units[u] = b?.open
        ? { state: 'backing-off', failures: b.failures, retryInMs: Math.max(0, Math.round(b.retryAt - now)), timeouts: this.timeouts.get(u) ?? 0 }
        : { state: 'ok', timeouts: this.timeouts.get(u) ?? 0 };
    }
    const exceptions: Record<string, number> = {};
    for (const p of this.points) if (p.exceptions) exceptions[p.name] = p.exceptions;
    return {
      bus: bus?.key,
      connected: bus?.connected ?? false,
      queueDepth: bus?.queueDepth ?? 0,
      requestsPerFullCycle: this.fullPlan().length,
      requests: bus?.requests ?? 0,
      answers: bus?.answers ?? 0,
      staleFrames: bus?.transport.staleFrames ?? 0,
      overruns: this.overruns,
      skippedSlots: this.skippedSlots,
      isolatedPoints: this.points.filter((p) => p.isolated).map((p) => p.name),
      units,
      exceptions,
    };
  }
}
