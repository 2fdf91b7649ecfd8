import { z } from 'zod';
import { duration, positiveDuration, size } from '../../core/config-primitives.js';

/** The `uplink` section of the config file (composed into the whole schema by agent/config). */

export const mqttSchema = z.strictObject({
  url: z.string().regex(/^(mqtts?|wss?|tcp|ssl):\/\//, 'expected a URL like mqtt://host:1883 or mqtts://host:8883'),
  /** Local-only (a push cannot set it: one id on many boards means endless session takeovers). Default edge-agent-{agent.id}. */
  clientId: z.string().min(1).optional(),
  username: z.string().optional(),
  /** Inline password: allowed for tests, prefer passwordFile or EDGE_AGENT_MQTT_PASSWORD. */
  password: z.string().optional(),
  passwordFile: z.string().optional(),
  ca: z.string().optional(),
  cert: z.string().optional(),
  key: z.string().optional(),
  /** Skip server certificate verification: only for lab setups. */
  insecure: z.boolean().default(false),
  topicPrefix: z.string().regex(/^[^#+]*$/, 'must not contain MQTT wildcards').default('edge'),
  qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(1),
  keepalive: positiveDuration().default(30_000),
  connectTimeout: positiveDuration().default(10_000),
  reconnectMin: positiveDuration().default(1000),
  reconnectMax: positiveDuration().default(60_000),
  /** After a failed retry, agents try once per this window at a random phase: a fleet is back within it, evenly spread. */
  reconnectSpread: positiveDuration().default(15_000),
  /** With batches waiting, no PUBACK for this long ends the connection (a frozen link); 0 = off (keepalive only). */
  ackTimeout: duration().default(10_000),
  /** Batches published and not yet acknowledged at once. */
  inflight: z.int().min(1).max(1000).default(16),
});

export const batchSchema = z.strictObject({
  maxReadings: z.int().min(1).max(100_000).default(500),
  maxBytes: size().default(256 * 1024),
  maxDelay: positiveDuration().default(1000),
  encoding: z.enum(['json', 'json+gzip']).default('json'),
});

/** Sparkplug ids are topic levels: no MQTT wildcards, no '/'. */
const sparkplugId = () => z.string().min(1).regex(/^[^/#+]+$/, 'must not contain "/", "+" or "#" (it is an MQTT topic level)');

export const sparkplugSchema = z.strictObject({
  groupId: sparkplugId(),
  /** Host application id: data waits for spBv1.0/STATE/{primaryHost} online (Sparkplug 3.0). */
  primaryHost: sparkplugId().optional(),
  /**
   * DCMD metric writes, off unless set: a DCMD carries no signature, so the broker's ACL on
   * spBv1.0/{groupId}/DCMD/{agent.id}/# is the only guard (warned at start). Writes then follow the
   * command rules (writable points, type, range, logged).
   */
  writes: z.boolean().default(false),
});

export const uplinkSchema = z.strictObject({
  mqtt: mqttSchema,
  batch: batchSchema.prefault({}),
  /** Token bucket on published bytes for metered links; off when absent. */
  maxBytesPerSecond: size().optional(),
  /** Wire format: the SPEC's JSON batches, or a Sparkplug B 3.0 edge node (agent/uplink/sparkplug). */
  profile: z.enum(['json', 'sparkplug-b']).default('json'),
  sparkplug: sparkplugSchema.optional(),
}).superRefine((u, ctx) => {
  if (u.profile === 'sparkplug-b' && !u.sparkplug) ctx.addIssue({ code: 'custom', path: ['sparkplug'], message: 'required for profile sparkplug-b (at least groupId)' });
});

export type UplinkConfig = z.output<typeof uplinkSchema>;
