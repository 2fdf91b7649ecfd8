import os from 'node:os';
import { z } from 'zod';
import { drivers } from '../../drivers/index.js';
import { stages } from '../../pipelines/index.js';
import { duration, size } from './primitives.js';

/**
 * The config file's schema (SPEC "Config file"). Driver and stage schemas come from their
 * registries, so adding a driver never touches this file. All objects are strict: a typo is
 * an error, never silently ignored.
 */

const agentSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'expected letters, digits, "_", "." or "-" (it is part of MQTT topics)').default(() => os.hostname()),
  dataDir: z.string().min(1).default('/var/lib/edge-agent'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

const mqttSchema = z.strictObject({
  url: z.string().regex(/^(mqtts?|wss?|tcp|ssl):\/\//, 'expected a URL like mqtt://host:1883 or mqtts://host:8883'),
  clientId: z.string().optional(),
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
  keepalive: duration().default(30_000),
  connectTimeout: duration().default(10_000),
  reconnectMin: duration().default(1000),
  reconnectMax: duration().default(60_000),
  /** Batches published and not yet acknowledged at once. */
  inflight: z.int().min(1).max(1000).default(16),
});

const batchSchema = z.strictObject({
  maxReadings: z.int().min(1).max(100_000).default(500),
  maxBytes: size().default(256 * 1024),
  maxDelay: duration().default(1000),
  encoding: z.enum(['json', 'json+gzip']).default('json'),
});

const uplinkSchema = z.strictObject({
  mqtt: mqttSchema,
  batch: batchSchema.prefault({}),
  /** Token bucket on published bytes for metered links; off when absent. */
  maxBytesPerSecond: size().optional(),
});

const bufferSchema = z.strictObject({
  maxBytes: size().default(64 * 1024 * 1024),
  overflow: z.enum(['drop-oldest', 'drop-newest', 'thin']).default('drop-oldest'),
  /** RAM for readings while the data dir refuses writes (full, read-only); oldest dropped and counted beyond. */
  memoryMaxBytes: size().default(16 * 1024 * 1024),
  flushInterval: duration().refine((v) => v >= 10, 'must be at least 10ms').default(1000),
});

const sourceSchema = z.discriminatedUnion(
  'driver',
  drivers.map((d) => d.schema) as unknown as [z.ZodObject, ...z.ZodObject[]],
);

const stageItemSchema = z.strictObject(
  Object.fromEntries(stages.map((s) => [s.name, s.schema.optional()])) as Record<string, z.ZodOptional<z.ZodType>>,
).superRefine((v, ctx) => {
  const keys = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined);
  if (keys.length !== 1) {
    ctx.addIssue({ code: 'custom', message: `a stage is one key, one of ${stages.map((s) => s.name).join(', ') || '(none available)'}; got ${keys.length ? keys.join(', ') : 'none'}` });
  }
});

const pipelineSchema = z.strictObject({
  match: z.string().min(1),
  stages: z.array(stageItemSchema).default([]),
});

const controlSchema = z.strictObject({
  socket: z.string().default('/run/edge-agent/agent.sock'),
  metrics: z.strictObject({ listen: z.string().regex(/^[^:]*:\d+$/, 'expected host:port, e.g. 127.0.0.1:9464') }).optional(),
  remoteConfig: z.strictObject({
    enabled: z.boolean().default(true),
    publicKey: z.string().optional(),
    maxBytes: size().default(256 * 1024),
  }).prefault({}),
});

export const configSchema = z.strictObject({
  agent: agentSchema.prefault({}),
  uplink: uplinkSchema,
  buffer: bufferSchema.prefault({}),
  sources: z.array(sourceSchema).default([]),
  pipelines: z.array(pipelineSchema).default([]),
  control: controlSchema.prefault({}),
}).superRefine((cfg, ctx) => {
  const seen = new Map<string, number>();
  cfg.sources.forEach((s, i) => {
    const id = (s as { id: string }).id;
    const prev = seen.get(id);
    if (prev !== undefined) ctx.addIssue({ code: 'custom', path: ['sources', i, 'id'], message: `duplicate source id "${id}" (also sources[${prev}])` });
    else seen.set(id, i);
  });
});

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type SourceConfig = Config['sources'][number] & { id: string; driver: string; enabled: boolean };
export type PipelineConfig = Config['pipelines'][number];
export type UplinkConfig = Config['uplink'];
export type BufferConfig = Config['buffer'];
