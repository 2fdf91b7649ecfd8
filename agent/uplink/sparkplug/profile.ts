// Over 300 lines on purpose: one session state machine; births, data, deaths and commands share
// its seq, alias and bdSeq state, and splitting them would pass that state around.
import type { MqttClient } from 'mqtt';
import type { Logger } from '../../../core/log.js';
import type { StoredBatch } from '../../../core/batch.js';
import type { DeviceInfo, DeviceWrite, PointDescriptor } from '../../../core/points.js';
import type { Quality, Value } from '../../../core/reading.js';
import type { UplinkConfig } from '../schema.js';
import type { OutMessage, ProfileLink, UplinkProfile, Will } from '../profile.js';
import { DataType, decodePayload, encodePayload, type Metric } from './payload.js';
import { DeviceMetrics, getValue, datatypeOf, datatypeOfValue, fits, qualityProperty, setValue, type MetricDef } from './metrics.js';
import { BdSeqStore } from './bdseq.js';

/** What the runtime gives the profile: the sources as devices, and their last values (DBIRTH). */
export interface SparkplugDeps {
  dataDir: string;
  devices(): readonly DeviceInfo[];
  lastValue(source: string, point: string): { value: Value; ts: number } | undefined;
  /** DCMD writes go here (the command executor); absent = refused. */
  write?: DeviceWrite;
}

interface StoredReading { source: string; point: string; ts: number; value: Value; quality?: Quality }

const REBIRTH = 'Node Control/Rebirth';
/** DCMD freshness, as the SPEC's command rule (maxAge's default, 5 s ahead for clock skew). */
const DCMD_MAX_AGE_MS = 30_000;
const DCMD_MAX_AHEAD_MS = 5_000;
const REBIRTH_ALIAS = 1;

/**
 * A Sparkplug B 3.0 edge node (edge node id = agent.id, one device per source). Session:
 * bdSeq per connection in the will (NDEATH) and in NBIRTH; NBIRTH then a DBIRTH per live source;
 * DDATA by alias with seq 0..255 over every message after NBIRTH. With a primary host, NBIRTH waits
 * for its STATE online and the session ends when it goes offline (data stays in the outbox).
 * Readings acquired before the session's NBIRTH go out with is_historical.
 */
export class SparkplugProfile implements UplinkProfile {
  readonly name = 'sparkplug-b';
  epoch = 0;
  private readonly root: string;
  private readonly stateTopic: string | undefined;
  private readonly bdSeqStore: BdSeqStore;
  private bdSeq = -1;
  private seq = 0;
  private client: MqttClient | undefined;
  private link: ProfileLink | undefined;
  /** NBIRTH published on this connection. */
  private born = false;
  /** Wall ms of this session's NBIRTH: readings older than this are historical. */
  private readyAt = Number.POSITIVE_INFINITY;
  private host: { online: boolean; ts: number; at: number } | undefined;
  private readonly metrics = new Map<string, DeviceMetrics>();
  private readonly known = new Map<string, DeviceInfo>();
  private readonly bornDevices = new Set<string>();
  private nextAlias = REBIRTH_ALIAS + 1;
  private lastTick = -Infinity;
  private readonly warned = new Set<string>();
  readonly counters = { births: 0, rebirthRequests: 0, deviceBirths: 0, deviceDeaths: 0, dcmdDone: 0, dcmdRejected: 0, dcmdFailed: 0, badMessages: 0, badReadings: 0, retyped: 0, staleState: 0 };

  constructor(private readonly cfg: UplinkConfig, private readonly nodeId: string, private readonly deps: SparkplugDeps, private readonly log: Logger) {
    const sp = cfg.sparkplug!;
    this.root = `spBv1.0/${sp.groupId}`;
    this.stateTopic = sp.primaryHost ? `spBv1.0/STATE/${sp.primaryHost}` : undefined;
    this.bdSeqStore = new BdSeqStore(deps.dataDir, log);
    // Said at every start, like allowUnsigned: nothing but the broker's ACL guards these writes.
    if (sp.writes) log.warn({ topic: `${this.root}/DCMD/${nodeId}/#` }, 'sparkplug DCMD writes are on: they carry no signature, so only the broker ACL on this topic decides who may write to devices');
  }

  private topic(type: string, device?: string): string {
    return device === undefined ? `${this.root}/${type}/${this.nodeId}` : `${this.root}/${type}/${this.nodeId}/${device}`;
  }

  private nextSeq(): number {
    const s = this.seq;
    this.seq = (s + 1) & 255;
    return s;
  }

  private ndeath(): Buffer {
    return encodePayload({ timestamp: Date.now(), metrics: [{ name: 'bdSeq', datatype: DataType.Int64, long_value: this.bdSeq }] });
  }

  will(): Will {
    // A new connection: a new bdSeq, persisted before the CONNECT that carries it.
    this.bdSeq = this.bdSeqStore.next();
    return { topic: this.topic('NDEATH'), payload: this.ndeath(), qos: 1, retain: false };
  }

  onConnect(client: MqttClient, link: ProfileLink): void {
    this.client = client;
    this.link = link;
    const subs: Record<string, { qos: 1 }> = { [this.topic('NCMD')]: { qos: 1 }, [`${this.topic('DCMD')}/+`]: { qos: 1 } };
    if (this.stateTopic) subs[this.stateTopic] = { qos: 1 };
    client.subscribe(subs, (err) => {
      if (err) this.log.error({ err: err.message }, 'sparkplug subscribe failed');
    });
    // Sparkplug 3.0: with a primary host, NBIRTH waits for its STATE (the retained one arrives after SUBSCRIBE).
    if (!this.stateTopic) this.birth(true);
  }

  onClose(): void {
    this.client = undefined;
    this.born = false;
    this.readyAt = Number.POSITIVE_INFINITY;
    this.bornDevices.clear();
  }

  ready(): boolean {
    return this.born;
  }

  /** NBIRTH (seq 0, this connection's bdSeq) and a DBIRTH per live source; also the answer to a Rebirth. */
  private birth(session: boolean): void {
    const client = this.client;
    if (!client || !this.link) return;
    this.epoch++;
    this.seq = 0;
    const payload = encodePayload({
      timestamp: Date.now(),
      seq: this.nextSeq(),
      metrics: [
        { name: 'bdSeq', datatype: DataType.Int64, long_value: this.bdSeq },
        { name: REBIRTH, alias: REBIRTH_ALIAS, datatype: DataType.Boolean, boolean_value: false },
      ],
    });
    this.link.publish(this.topic('NBIRTH'), payload, 0);
    this.born = true;
    this.counters.births++;
    if (session) this.readyAt = Date.now();
    this.bornDevices.clear();
    this.refreshDevices();
    for (const d of this.known.values()) if (d.up) this.publish(this.dbirth(d.id));
    this.log.info({ bdSeq: this.bdSeq, devices: this.bornDevices.size, rebirth: !session }, 'sparkplug NBIRTH published');
    this.link.kick();
  }

  private publish(m: OutMessage): void {
    this.link?.publish(m.topic, m.payload, m.qos as 0 | 1);
  }

  /** The runtime's sources, and their declared points as metrics (a config change may add some). */
  private refreshDevices(): Set<string> | undefined {
    this.known.clear();
    let grown: Set<string> | undefined;
    for (const d of this.deps.devices()) {
      this.known.set(d.id, d);
      const dev = this.device(d.id);
      for (const p of d.points) {
        if (dev.byName.has(p.name)) continue;
        this.addMetric(dev, p.name, p, undefined);
        (grown ??= new Set()).add(d.id);
      }
    }
    return grown;
  }

  private device(id: string): DeviceMetrics {
    let dev = this.metrics.get(id);
    if (!dev) {
      dev = new DeviceMetrics(id);
      this.metrics.set(id, dev);
    }
    return dev;
  }

  private addMetric(dev: DeviceMetrics, name: string, p: PointDescriptor | undefined, v: Value | undefined): MetricDef {
    const def = { name, alias: this.nextAlias++, datatype: datatypeOf(p, v) };
    dev.byName.set(name, def);
    return def;
  }

  /** DBIRTH: every metric of the device with name, alias, datatype and its current value. */
  private dbirth(id: string): OutMessage {
    const dev = this.device(id);
    const metrics: Metric[] = [];
    for (const def of dev.byName.values()) {
      const m: Metric = { name: def.name, alias: def.alias, datatype: def.datatype };
      const last = this.deps.lastValue(id, def.name);
      if (last && fits(def.datatype, last.value)) {
        m.timestamp = last.ts;
        setValue(m, def.datatype, last.value);
      } else m.is_null = true;
      metrics.push(m);
    }
    this.bornDevices.add(id);
    this.counters.deviceBirths++;
    return { topic: this.topic('DBIRTH', id), payload: encodePayload({ timestamp: Date.now(), seq: this.nextSeq(), metrics }), qos: 0 };
  }

  private ddeath(id: string): void {
    this.bornDevices.delete(id);
    this.counters.deviceDeaths++;
    this.publish({ topic: this.topic('DDEATH', id), payload: encodePayload({ timestamp: Date.now(), seq: this.nextSeq(), metrics: [] }), qos: 0 });
    this.log.info({ device: id }, 'sparkplug DDEATH published');
  }

  /** Sources that went down get a DDEATH, sources back (or new after a config change) a DBIRTH. */
  tick(): void {
    if (!this.born) return;
    const now = performance.now();
    if (now - this.lastTick < 250) return;
    this.lastTick = now;
    const grown = this.refreshDevices();
    for (const d of this.known.values()) {
      // Not yet born, or born with fewer metrics than its config now declares.
      if (d.up && (!this.bornDevices.has(d.id) || grown?.has(d.id))) this.publish(this.dbirth(d.id));
      else if (!d.up && this.bornDevices.has(d.id)) this.ddeath(d.id);
    }
    for (const id of [...this.bornDevices]) if (!this.known.has(id)) this.ddeath(id);
  }

  encode(b: StoredBatch): OutMessage[] {
    const doc = JSON.parse(b.payload.toString('utf8')) as { readings?: StoredReading[] };
    if (!Array.isArray(doc.readings)) throw new Error(`batch ${b.seq}: no readings array`);
    const readings = doc.readings;
    // Pass 1: every metric known with a datatype its values fit, before any DBIRTH is cut.
    let rebirth: Set<string> | undefined;
    for (const r of readings) {
      if (!validReading(r)) continue;
      const dev = this.device(r.source);
      const def = dev.byName.get(r.point);
      if (!def) {
        this.addMetric(dev, r.point, undefined, r.value);
        (rebirth ??= new Set()).add(r.source);
      } else if (!fits(def.datatype, r.value)) {
        this.retype(dev, def, r.value);
        (rebirth ??= new Set()).add(r.source);
      }
    }
    // Pass 2: one DDATA per device, metrics by alias, in the batch's order.
    const groups = new Map<string, Metric[]>();
    const readyAt = this.readyAt;
    for (const r of readings) {
      if (!validReading(r)) {
        this.counters.badReadings++;
        this.warnOnce('bad-reading', { batch: b.seq, reading: JSON.stringify(r).slice(0, 200) }, 'sparkplug: stored reading without source, point, ts or value skipped');
        continue;
      }
      const def = this.metrics.get(r.source)!.byName.get(r.point)!;
      const m: Metric = { alias: def.alias, timestamp: r.ts };
      if (r.ts < readyAt) m.is_historical = true;
      if (r.quality !== undefined && r.quality !== 'good') m.properties = qualityProperty(r.quality);
      setValue(m, def.datatype, r.value);
      let g = groups.get(r.source);
      if (!g) groups.set(r.source, (g = []));
      g.push(m);
    }
    const out: OutMessage[] = [];
    const now = Date.now();
    for (const [id, metrics] of groups) {
      if (!this.bornDevices.has(id) || rebirth?.has(id)) out.push(this.dbirth(id));
      out.push({ topic: this.topic('DDATA', id), payload: encodePayload({ timestamp: now, seq: this.nextSeq(), metrics }), qos: this.cfg.mqtt.qos });
    }
    return out;
  }

  /** A value its metric's datatype cannot carry: widen the metric and rebirth the device. */
  private retype(dev: DeviceMetrics, def: MetricDef, v: Value): void {
    const from = def.datatype;
    def.datatype = typeof v === 'number' && (from !== DataType.Boolean && from !== DataType.String) ? DataType.Double : datatypeOfValue(v);
    this.counters.retyped++;
    this.warnOnce(`retype:${dev.id}/${def.name}`, { device: dev.id, metric: def.name, from, to: def.datatype, value: v }, 'sparkplug: value does not fit the point\'s datatype; metric retyped and device reborn');
  }

  private warnOnce(key: string, fields: Record<string, unknown>, msg: string): void {
    if (this.warned.has(key) || this.warned.size > 1000) return;
    this.warned.add(key);
    this.log.warn(fields, msg);
  }

  onMessage(topic: string, payload: Buffer, retained = false): boolean {
    if (topic === this.stateTopic) {
      this.onState(payload);
      return true;
    }
    if (topic === this.topic('NCMD')) {
      this.onNcmd(payload);
      return true;
    }
    const dcmd = `${this.topic('DCMD')}/`;
    if (topic.startsWith(dcmd)) {
      this.onDcmd(topic.slice(dcmd.length), payload, retained);
      return true;
    }
    return false;
  }

  /** Sparkplug 3.0 STATE: JSON {"online": bool, "timestamp": ms}; an older timestamp than seen is stale. */
  private onState(payload: Buffer): void {
    let doc: { online?: unknown; timestamp?: unknown };
    try {
      doc = JSON.parse(payload.toString('utf8'));
    } catch {
      doc = {};
    }
    if (typeof doc?.online !== 'boolean' || typeof doc.timestamp !== 'number') {
      this.counters.badMessages++;
      this.log.warn({ topic: this.stateTopic, payload: payload.toString('utf8').slice(0, 200) }, 'sparkplug: STATE payload is not {"online": bool, "timestamp": ms} (Sparkplug 3.0); ignored');
      return;
    }
    if (this.host && doc.timestamp < this.host.ts) {
      this.counters.staleState++;
      return;
    }
    const changed = this.host?.online !== doc.online;
    this.host = { online: doc.online, ts: doc.timestamp, at: Date.now() };
    if (changed) this.log.info({ primaryHost: this.cfg.sparkplug!.primaryHost, online: doc.online }, doc.online ? 'sparkplug primary host online' : 'sparkplug primary host offline; data stays in the outbox');
    if (doc.online && !this.born) this.birth(true);
    else if (!doc.online && this.born) {
      // Not one more DDATA to a host that left: the pump stops now, the session ends below.
      this.born = false;
      this.link?.restartSession('primary host offline');
    }
  }

  private decode(topic: string, payload: Buffer, withTs?: { ts?: number }): Metric[] | undefined {
    try {
      const p = decodePayload(payload);
      if (withTs) withTs.ts = p.timestamp;
      return p.metrics ?? [];
    } catch (e) {
      this.counters.badMessages++;
      this.log.warn({ topic, err: (e as Error).message }, 'sparkplug: command payload is not a Sparkplug B payload; ignored');
      return undefined;
    }
  }

  private onNcmd(payload: Buffer): void {
    const metrics = this.decode(this.topic('NCMD'), payload);
    if (!metrics) return;
    for (const m of metrics) {
      if ((m.name === REBIRTH || m.alias === REBIRTH_ALIAS) && m.boolean_value === true) {
        this.counters.rebirthRequests++;
        this.log.info({}, 'sparkplug rebirth requested (NCMD)');
        if (this.born) this.birth(false);
      } else {
        this.counters.badMessages++;
        this.log.warn({ metric: m.name ?? m.alias }, 'sparkplug: unsupported NCMD metric ignored');
      }
    }
  }

  private onDcmd(device: string, payload: Buffer, retained: boolean): void {
    const sent: { ts?: number } = {};
    const metrics = this.decode(`${this.topic('DCMD')}/${device}`, payload, sent);
    if (!metrics) return;
    const dev = this.metrics.get(device);
    const names = metrics.map((m) => m.name ?? [...(dev?.byName.values() ?? [])].find((d) => d.alias === m.alias)?.name ?? `alias ${m.alias}`);
    const write = this.deps.write;
    const refuse = (why: string) => {
      this.counters.dcmdRejected += metrics.length;
      this.log.warn({ device, metrics: names, ts: sent.ts }, `sparkplug DCMD write rejected: ${why}`);
    };
    if (!this.cfg.sparkplug!.writes || !write) return refuse('uplink.sparkplug.writes is off');
    // The command rules that need no signature (SPEC "Commands"): a retained command would fire at
    // every reconnect, and one that waited in a broker must not fire late. The payload's timestamp
    // (required by Sparkplug) is when the host issued it.
    if (retained) return refuse('retained (a retained command would run again at every reconnect)');
    const age = typeof sent.ts === 'number' ? Date.now() - sent.ts : undefined;
    if (age === undefined || !(age <= DCMD_MAX_AGE_MS && age >= -DCMD_MAX_AHEAD_MS)) {
      return refuse(age === undefined ? 'the payload has no timestamp' : `stale: issued ${Math.round(age / 1000)} s ago (window ${DCMD_MAX_AGE_MS / 1000} s back, ${DCMD_MAX_AHEAD_MS / 1000} s ahead)`);
    }
    // Each metric is one command through the executor (writable points, type, range, one log line
    // each); the read-back value comes back as a reading, so the host sees it in DDATA.
    const at = Date.now();
    metrics.forEach((m, i) => {
      const def = dev?.byName.get(names[i]!);
      const value = getValue(m, m.datatype ?? def?.datatype);
      const id = `dcmd-${device}-${at}-${i}`;
      if (value === undefined) {
        this.counters.dcmdRejected++;
        this.log.warn({ id, device, metric: names[i] }, 'sparkplug DCMD write rejected: the metric carries no value');
        return;
      }
      write({ id, source: device, point: names[i]!, value }, 'sparkplug').then((r) => {
        if (r.status === 'done') this.counters.dcmdDone++;
        else if (r.status === 'failed') this.counters.dcmdFailed++;
        else this.counters.dcmdRejected++;
      }, (e: Error) => {
        this.counters.dcmdFailed++;
        this.log.error({ id, err: e.message }, 'sparkplug DCMD write failed');
      });
    });
  }

  farewell(): OutMessage | undefined {
    if (!this.client || this.bdSeq < 0) return undefined;
    return { topic: this.topic('NDEATH'), payload: this.ndeath(), qos: 1 };
  }

  status(): Record<string, unknown> {
    const sp = this.cfg.sparkplug!;
    return {
      profile: 'sparkplug-b',
      groupId: sp.groupId,
      edgeNodeId: this.nodeId,
      bdSeq: this.bdSeq,
      seq: this.seq,
      born: this.born,
      devicesBorn: this.bornDevices.size,
      primaryHost: sp.primaryHost ? { id: sp.primaryHost, state: this.host ? (this.host.online ? 'online' : 'offline') : 'unknown', since: this.host?.at ?? null } : null,
      ...this.counters,
    };
  }
}

function validReading(r: StoredReading): boolean {
  const t = typeof r?.value;
  return typeof r?.source === 'string' && typeof r.point === 'string' && typeof r.ts === 'number' && (t === 'number' || t === 'boolean' || t === 'string');
}
