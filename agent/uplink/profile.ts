import zlib from 'node:zlib';
import type { MqttClient } from 'mqtt';
import type { StoredBatch } from '../../core/batch.js';
import type { UplinkConfig } from './schema.js';
import type { Topics } from './topics.js';

/** One MQTT message a stored batch turns into. */
export interface OutMessage {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
}

export interface Will {
  topic: string;
  payload: Buffer;
  qos: 0 | 1;
  retain: boolean;
}

/** What the uplink offers a profile: out-of-band publishes, a nudge, and ending the session. */
export interface ProfileLink {
  /** Publish outside the outbox window (births, deaths); `cb` after PUBACK (QoS 1) or write (QoS 0). */
  publish(topic: string, payload: Buffer, qos: 0 | 1, cb?: (err?: Error) => void): void;
  /** Data may flow (again): run the pump. */
  kick(): void;
  /** Disconnect and connect again (a fresh will): Sparkplug when the primary host goes offline. */
  restartSession(reason: string): void;
}

/**
 * The payload-encoder step between the outbox and MQTT, plus what a wire profile adds around it
 * (its will, its session messages). The outbox keeps SPEC JSON batches whatever the profile, so
 * switching profile by config push keeps the backlog.
 */
export interface UplinkProfile {
  readonly name: string;
  /** The will of the next CONNECT (asked before every connection attempt). */
  will(): Will;
  /** Connected: subscribe, publish births. */
  onConnect(client: MqttClient, link: ProfileLink): void;
  onClose(): void;
  /** Data may be published now (Sparkplug: NBIRTH sent, primary host online). */
  ready(): boolean;
  /** Called from the pump when ready, at most every few hundred ms (device births and deaths). */
  tick?(): void;
  /** Messages of the profile's own topics; true when handled. */
  onMessage(topic: string, payload: Buffer, retained: boolean): boolean;
  /** A stored batch as the messages to publish, in order. Throws on a batch it cannot read. */
  encode(b: StoredBatch): OutMessage[];
  /** Bumped whenever out-of-band messages may have changed what `encode` would produce (seq). */
  readonly epoch: number;
  /** Clean stop: the message to publish before DISCONNECT (a will is not sent then), if any. */
  farewell?(): OutMessage | undefined;
  status(): Record<string, unknown>;
}

/** The SPEC's JSON batches on {prefix}/{agent}/data, gzipped for `json+gzip`. */
export class JsonProfile implements UplinkProfile {
  readonly name = 'json';
  readonly epoch = 0;
  constructor(private readonly cfg: UplinkConfig, private readonly topics: Topics, private readonly agentId: string) {}

  will(): Will {
    return { topic: this.topics.status, payload: Buffer.from(JSON.stringify({ state: 'offline', agent: this.agentId })), qos: 1, retain: true };
  }

  onConnect(): void {}
  onClose(): void {}
  ready(): boolean {
    return true;
  }

  onMessage(): boolean {
    return false;
  }

  encode(b: StoredBatch): OutMessage[] {
    const payload = this.cfg.batch.encoding === 'json+gzip' ? zlib.gzipSync(b.payload, { level: 6 }) : b.payload;
    return [{ topic: this.topics.data, payload, qos: this.cfg.mqtt.qos }];
  }

  status(): Record<string, unknown> {
    return { profile: 'json', encoding: this.cfg.batch.encoding };
  }
}
