// Over 300 lines on purpose: the connection lifecycle, the outbox window and per-batch
// acknowledgement share the generation and in-flight state; profiles live in profile.ts and sparkplug/.
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../../core/log.js';
import type { UplinkConfig } from './schema.js';
import type { BatchSource, StoredBatch } from '../../core/batch.js';
import { ReconnectSchedule } from './reconnect-spread.js';
import { PubackWatchdog } from './puback-watchdog.js';
import { LostInflight } from './lost-inflight.js';
import { mqttClientOptions } from './mqtt-options.js';
import { topics, type Topics } from './topics.js';
import { TokenBucket } from './token-bucket.js';
import { BufferReleaser } from './release-buffers.js';
import { JsonProfile, type OutMessage, type ProfileLink, type UplinkProfile, type Will } from './profile.js';
import type { SparkplugDeps } from './sparkplug/profile.js';
import type { DeviceWrite } from '../../core/points.js';

export type LinkState = 'connecting' | 'connected' | 'disconnected' | 'stopped';

export interface UplinkCounters {
  batchesPublished: number;
  batchesAcked: number;
  bytesPublished: number;
  connects: number;
  disconnects: number;
  lastAckAt: number;
  /** Last publish->ack latency, ms. */
  lastLatencyMs: number;
  /** Connections ended because a PUBACK was overdue (uplink.mqtt.ackTimeout). */
  ackTimeouts: number;
  /** Stored batches the profile could not read (corrupt): dropped, logged. */
  undecodableBatches: number;
}

export interface UplinkHooks {
  /** Extra fields for the retained status document. */
  status?: () => Record<string, unknown>;
  /** Called on every (re)connect, after the birth message; subscribe here. */
  onConnect?: (client: MqttClient) => void;
  onMessage?: (topic: string, payload: Buffer, retained: boolean) => void;
  /** A batch was acknowledged `latencyMs` after it was published (metrics). */
  onAck?: (latencyMs: number) => void;
  /** What the sparkplug-b profile needs from the runtime (devices, last values, data dir). */
  sparkplug?: SparkplugDeps;
  /** Runs a device write from outside (Sparkplug DCMD) through the command executor. */
  deviceWrite?: DeviceWrite;
}

/**
 * Forwards outbox batches over MQTT. At most `inflight` batches are handed to mqtt.js at once,
 * so its in-memory queue stays near empty; a batch is removed from the outbox only in the
 * publish callback, i.e. after PUBACK (QoS 1/2). Batches unacknowledged when the link drops are
 * resent by US from the outbox (same payload, hence the same seq): mqtt.js's reconnect() starts
 * with a fresh outgoing store and never calls back the publishes it dropped, so each connection
 * gets a generation number and callbacks from an older one are ignored.
 */
export class MqttUplink {
  readonly topics: Topics;
  private client: MqttClient | undefined;
  private state: LinkState = 'disconnected';
  private readonly backoff: ReconnectSchedule;
  /** Ends a connection on which batches wait for a PUBACK too long (frozen link); undefined when ackTimeout is 0. */
  private readonly puback: PubackWatchdog | undefined;
  /** Publishes mqtt.js failed before `close` (it errors their callbacks first): counted in the disconnect log. */
  private readonly lost = new LostInflight();
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** Batches handed to mqtt.js: readings, and messages not yet acknowledged (a profile may send several). */
  private readonly inflight = new Map<number, { n: number; pending: number }>();
  /** Wire format (payload-encoder step + session messages); sparkplug-b is loaded on start. */
  private profile: UplinkProfile;
  /** Bumped on every close: publish callbacks of an older connection are stale. */
  private generation = 0;
  private lastQueuedSeq = 0;
  private pumping = false;
  private lastError = '';
  private bucket: TokenBucket | undefined;
  private bucketTimer: NodeJS.Timeout | undefined;
  private stateSince = Date.now();
  private readonly releaser = new BufferReleaser();
  /** The batch a metered link is waiting to send (already read and encoded). */
  private parked: { b: StoredBatch; msgs: OutMessage[]; generation: number; epoch: number } | undefined;
  /** Resolves the first time this uplink reaches a broker (used by remote-config rollback). */
  readonly connected: Promise<void>;
  private markConnected!: () => void;
  readonly counters: UplinkCounters = { batchesPublished: 0, batchesAcked: 0, bytesPublished: 0, connects: 0, disconnects: 0, lastAckAt: 0, lastLatencyMs: 0, ackTimeouts: 0, undecodableBatches: 0 };

  constructor(
    private readonly cfg: UplinkConfig,
    private readonly agentId: string,
    private readonly outbox: BatchSource,
    private readonly log: Logger,
    private readonly hooks: UplinkHooks = {},
  ) {
    this.topics = topics(cfg.mqtt.topicPrefix, agentId);
    this.backoff = new ReconnectSchedule(cfg.mqtt.reconnectMin, cfg.mqtt.reconnectMax, cfg.mqtt.reconnectSpread);
    // A metered (slow) link gets one batch's transmission time on top: PUBACKs come at least that often while it moves.
    const perBatchMs = cfg.maxBytesPerSecond ? Math.ceil((cfg.batch.maxBytes * 1000) / cfg.maxBytesPerSecond) : 0;
    if (cfg.mqtt.ackTimeout > 0 && cfg.mqtt.qos > 0) this.puback = new PubackWatchdog(cfg.mqtt.ackTimeout + perBatchMs, () => this.inflight.size, (ms) => this.ackOverdue(ms));
    if (cfg.maxBytesPerSecond) this.bucket = new TokenBucket(cfg.maxBytesPerSecond, Math.max(cfg.maxBytesPerSecond, cfg.batch.maxBytes));
    this.connected = new Promise((r) => (this.markConnected = r));
    this.profile = new JsonProfile(cfg, this.topics, agentId);
  }

  /** The profile's part of `status` (profile name, Sparkplug bdSeq/seq/primary host). */
  profileStatus(): Record<string, unknown> {
    return this.profile.status();
  }

  get linkState(): LinkState {
    return this.state;
  }

  get stateAgeMs(): number {
    return Date.now() - this.stateSince;
  }

  get inflightCount(): number {
    return this.inflight.size;
  }

  start(): void {
    this.setState('connecting');
    if (this.cfg.profile !== 'sparkplug-b') return this.connect();
    // Loaded only when chosen: protobufjs and the session code stay out of a JSON agent's heap.
    import('./sparkplug/profile.js').then(({ SparkplugProfile }) => {
      // A stop or a config swap while loading: this uplink is gone.
      if (this.state === 'stopped') return;
      if (!this.hooks.sparkplug) throw new Error('the runtime gave no device list (UplinkHooks.sparkplug)');
      this.profile = new SparkplugProfile(this.cfg, this.agentId, { ...this.hooks.sparkplug, write: this.hooks.deviceWrite }, this.log.child({ profile: 'sparkplug-b' }));
      this.connect();
    }).catch((e: Error) => this.log.error({ err: e.message }, 'cannot start the sparkplug-b profile'));
  }

  private readonly link: ProfileLink = {
    publish: (topic, payload, qos, cb) => {
      if (this.state !== 'connected' || !this.client) return cb?.(new Error('not connected'));
      this.counters.bytesPublished += payload.length;
      this.client.publish(topic, payload, { qos }, cb);
    },
    kick: () => this.kick(),
    restartSession: (reason) => this.restartSession(reason),
  };

  private connect(): void {
    const opts = mqttClientOptions(this.cfg.mqtt, this.agentId, this.profile.will());
    const client = mqtt.connect(this.cfg.mqtt.url, opts);
    this.client = client;
    client.on('connect', () => {
      this.backoff.reset();
      this.lost.reset();
      this.puback?.start();
      this.counters.connects++;
      this.lastError = '';
      this.setState('connected');
      this.log.info({ url: redactUrl(this.cfg.mqtt.url) }, 'uplink connected');
      this.markConnected();
      this.publishStatus();
      this.profile.onConnect(client, this.link);
      this.hooks.onConnect?.(client);
      this.kick();
    });
    client.on('message', (topic, payload, packet) => {
      if (!this.profile.onMessage(topic, payload, packet.retain)) this.hooks.onMessage?.(topic, payload, packet.retain);
    });
    client.on('error', (err) => {
      // Auth failures, TLS errors, refused connections: one line per distinct error, then backoff.
      const msg = describeError(err);
      if (msg !== this.lastError) {
        this.log.error({ url: redactUrl(this.cfg.mqtt.url), err: msg }, 'uplink error');
        this.lastError = msg;
      }
    });
    client.on('close', () => {
      if (this.state === 'stopped') return;
      this.puback?.stop();
      this.profile.onClose();
      const requeued = this.lost.add(this.requeueInflight());
      if (this.state === 'connected') {
        this.counters.disconnects++;
        this.log.warn({ url: redactUrl(this.cfg.mqtt.url), inflight: requeued.count, resendFromSeq: requeued.from }, 'uplink disconnected; batches stay in the outbox');
      }
      this.setState('disconnected');
      this.scheduleReconnect();
    });
  }

  /** The link dropped: whatever was in flight is unacknowledged; resend from the oldest of it. */
  private requeueInflight(): { count: number; from: number | undefined } {
    this.generation++;
    let oldest = Infinity;
    for (const seq of this.inflight.keys()) oldest = Math.min(oldest, seq);
    if (oldest !== Infinity) this.lastQueuedSeq = Math.min(this.lastQueuedSeq, oldest - 1);
    const count = this.inflight.size;
    this.inflight.clear();
    return { count, from: oldest === Infinity ? undefined : oldest };
  }

  /** No PUBACK for ackTimeout with batches waiting: the link is frozen; end it (close requeues and reconnects). */
  private ackOverdue(waitedMs: number): void {
    if (this.state !== 'connected' || !this.client) return;
    this.counters.ackTimeouts++;
    this.log.warn({ url: redactUrl(this.cfg.mqtt.url), waitedMs: Math.round(waitedMs), inflight: this.inflight.size, ackTimeoutMs: this.cfg.mqtt.ackTimeout }, 'uplink: no PUBACK within uplink.mqtt.ackTimeout although batches wait; the link looks frozen, reconnecting');
    // destroy(), not end(): a graceful DISCONNECT would wait on the same frozen socket.
    this.client.stream?.destroy();
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer || this.state === 'stopped') return;
    const delay = this.backoff.next();
    this.log.debug({ delayMs: delay, attempt: this.backoff.attempts }, 'uplink reconnect scheduled');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.state === 'stopped' || !this.client) return;
      this.setState('connecting');
      // Every connection carries the profile's will of that connection (Sparkplug: a new bdSeq).
      this.client.options.will = willOption(this.profile.will());
      this.client.reconnect();
    }, delay);
  }

  private setState(s: LinkState): void {
    if (s !== this.state) this.stateSince = Date.now();
    this.state = s;
  }

  /** New batches may be in the outbox: publish while the window has room. */
  kick(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      this.pump();
    } finally {
      this.pumping = false;
    }
  }

  private pump(): void {
    const client = this.client;
    if (!client || this.state !== 'connected' || !this.profile.ready()) return;
    const window = this.cfg.mqtt.inflight;
    // Device births and deaths go out between batches, never while a parked batch holds seq numbers.
    if (!this.parked) this.profile.tick?.();
    while (this.inflight.size < window) {
      // A metered link fetches one batch at a time, so nothing is read only to wait for tokens.
      const p = this.parked;
      const parked = p && p.generation === this.generation && p.b.seq > this.lastQueuedSeq ? p : undefined;
      this.parked = undefined;
      const batches = parked ? [parked.b] : this.outbox.next(this.lastQueuedSeq, this.bucket ? 1 : window - this.inflight.size);
      if (batches.length === 0) return;
      for (const b of batches) {
        // Re-encode a parked batch when session messages (a rebirth) were sent meanwhile: its seq numbers are stale.
        const msgs = parked && parked.epoch === this.profile.epoch ? parked.msgs : this.encode(b);
        if (msgs === undefined) continue;
        let size = 0;
        for (const m of msgs) size += m.payload.length;
        if (this.bucket && !this.bucket.take(size)) {
          // Metered link: keep this batch (encoded) and resume with it once tokens are there.
          this.parked = { b, msgs, generation: this.generation, epoch: this.profile.epoch };
          if (!this.bucketTimer) {
            this.bucketTimer = setTimeout(() => {
              this.bucketTimer = undefined;
              this.kick();
            }, this.bucket.msUntil(size));
          }
          return;
        }
        this.lastQueuedSeq = b.seq;
        this.puback?.sent(this.inflight.size);
        this.counters.batchesPublished++;
        this.counters.bytesPublished += size;
        this.send(client, b, msgs, size);
      }
    }
  }

  /** The profile's messages for a stored batch; a batch no profile can read is dropped, counted and logged. */
  private encode(b: StoredBatch): OutMessage[] | undefined {
    try {
      return this.profile.encode(b);
    } catch (e) {
      this.counters.undecodableBatches++;
      this.log.error({ seq: b.seq, readings: b.n, err: (e as Error).message }, 'stored batch cannot be encoded; dropped from the outbox');
      this.lastQueuedSeq = b.seq;
      this.outbox.ack(b.seq, b.n);
      return undefined;
    }
  }

  /** Publish a batch's messages; it leaves the outbox when every one is acknowledged (QoS 1/2) or written (QoS 0). */
  private send(client: MqttClient, b: StoredBatch, msgs: OutMessage[], size: number): void {
    const entry = { n: b.n, pending: msgs.length };
    const seq = b.seq;
    const gen = this.generation;
    const sentAt = performance.now();
    this.inflight.set(seq, entry);
    const done = (err?: Error) => {
      // Stale: an older connection (requeued already), or the uplink stopped or was replaced.
      if (gen !== this.generation || this.inflight.get(seq) !== entry) return;
      if (err) {
        // Not acknowledged: forget it was queued so it is sent again (same seq) later.
        this.inflight.delete(seq);
        if (seq <= this.lastQueuedSeq) this.lastQueuedSeq = Math.min(this.lastQueuedSeq, seq - 1);
        this.lost.failed(seq);
        return;
      }
      this.puback?.acked();
      if (--entry.pending > 0) return;
      this.inflight.delete(seq);
      this.counters.batchesAcked++;
      this.counters.lastAckAt = Date.now();
      this.counters.lastLatencyMs = performance.now() - sentAt;
      this.hooks.onAck?.(this.counters.lastLatencyMs);
      this.outbox.ack(seq, b.n);
      this.releaser.released(size);
      this.kick();
    };
    if (msgs.length === 0) return done();
    for (const m of msgs) client.publish(m.topic, m.payload, { qos: m.qos }, done);
  }

  /** End this MQTT session (the profile's farewell, then DISCONNECT) and connect again. */
  private restartSession(reason: string): void {
    const client = this.client;
    if (!client || this.state !== 'connected') return;
    this.log.info({ reason }, 'uplink ending the session; reconnecting');
    const bye = this.profile.farewell?.();
    let ended = false;
    // DISCONNECT (the will is dropped) once the farewell is acknowledged, or after 2 s without an ack.
    // mqtt.js emits close on end(): the close handler schedules the reconnect.
    const end = () => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      client.end(false, {});
    };
    const timer = setTimeout(end, 2000);
    if (bye) client.publish(bye.topic, bye.payload, { qos: bye.qos }, end);
    else end();
  }

  statusDocument(): Record<string, unknown> {
    return { state: 'online', agent: this.agentId, ...this.hooks.status?.() };
  }

  /** Retained status: birth on connect, refreshed by the runtime (counters, drops). */
  publishStatus(): void {
    if (this.state !== 'connected' || !this.client) return;
    this.client.publish(this.topics.status, JSON.stringify(this.statusDocument()), { qos: 1, retain: true });
  }

  publishRetained(topic: string, doc: unknown): void {
    if (this.state !== 'connected' || !this.client) return;
    this.client.publish(topic, JSON.stringify(doc), { qos: 1, retain: true });
  }

  /** Wait (bounded) for in-flight batches to be acknowledged. */
  async settle(timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.inflight.size > 0 && this.state === 'connected' && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  }

  /** Publish the offline status (clean shutdown: the will covers crashes) and disconnect. */
  async stop(opts: { offline?: boolean } = {}): Promise<void> {
    const client = this.client;
    const wasConnected = this.state === 'connected';
    this.setState('stopped');
    this.puback?.stop();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.bucketTimer) clearTimeout(this.bucketTimer);
    this.reconnectTimer = undefined;
    this.inflight.clear();
    if (!client) return;
    const bye = wasConnected ? this.profile.farewell?.() : undefined;
    if (bye) {
      // Sparkplug NDEATH: a clean DISCONNECT discards the will, so the node says it itself.
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2000);
        client.publish(bye.topic, bye.payload, { qos: bye.qos }, () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    if (wasConnected && opts.offline !== false) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2000);
        client.publish(this.topics.status, JSON.stringify({ state: 'offline', agent: this.agentId, at: Date.now() }), { qos: 1, retain: true }, () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 2000);
      client.end(!wasConnected, {}, () => {
        clearTimeout(t);
        resolve();
      });
    });
    client.removeAllListeners();
    client.on('error', () => {});
  }
}

function willOption(w: Will): Will {
  return { ...w };
}

/** One readable line per failure cause, with the config keys to look at (never a secret). */
export function describeError(err: Error & { code?: string | number }): string {
  const m = (err.message || String(err)).trim();
  if (/Not authorized|Bad user ?name or password/i.test(m)) return `${m} (check uplink.mqtt.username / passwordFile / EDGE_AGENT_MQTT_PASSWORD)`;
  // OpenSSL alerts come as "80CC...:error:0A00045C:SSL routines:...:tlsv13 alert certificate required:...": keep the alert.
  const alert = /(?:tlsv1\d? |sslv3 )?alert ([a-z ]+)/i.exec(m);
  if (alert) return `TLS alert from the broker: ${alert[1].trim()} (check uplink.mqtt.cert / key: the broker wants a client certificate it trusts)`;
  if (/self[- ]signed|unable to (verify|get)|certificate|altnames|hostname/i.test(m)) return `${m} (check uplink.mqtt.ca: the broker's certificate must chain to it and name the host in the url)`;
  if (err.code === 'ECONNREFUSED') return `${m} (nothing listens there: broker down or wrong uplink.mqtt.url)`;
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return `${m} (cannot resolve the broker's host name)`;
  return m;
}

/** URLs may carry credentials (mqtt://user:pass@host): never log them. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//[redacted]@');
}
