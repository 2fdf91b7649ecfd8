import os from 'node:os';
import { z } from 'zod';
import { drivers } from '../../drivers/index.js';
import { pipelineSchema } from '../../pipelines/schema.js';
import { uplinkSchema } from '../uplink/schema.js';
import { bufferSchema } from '../outbox/schema.js';
import { duration, size } from '../../core/config-primitives.js';

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

const sourceSchema = z.discriminatedUnion(
  'driver',
  drivers.map((d) => d.schema) as unknown as [z.ZodObject, ...z.ZodObject[]],
);

const controlSchema = z.strictObject({
  socket: z.string().default('/run/edge-agent/agent.sock'),
  metrics: z.strictObject({ listen: z.string().regex(/^[^:]*:\d+$/, 'expected host:port, e.g. 127.0.0.1:9464') }).optional(),
  // Default-deny (SPEC "Remote config"): pushes are taken only with a publicKey, or allowUnsigned.
  remoteConfig: z.strictObject({
    enabled: z.boolean().default(true),
    publicKey: z.string().optional(),
    allowUnsigned: z.boolean().default(false),
    groups: z.array(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'expected letters, digits, "_", "." or "-" (it is part of MQTT topics)')).default([]),
    confirm: z.strictObject({
      window: duration().default(60_000),
      require: z.array(z.enum(['link', 'sources'])).default(['link', 'sources']),
    }).prefault({}),
    maxBytes: size().default(256 * 1024),
  }).prefault({}),
  /** Writes to devices (SPEC "Commands"): off without publicKey; there is no unsigned mode. */
  commands: z.strictObject({
    publicKey: z.string().optional(),
    /** A command whose ts is older than this when it arrives is rejected (queued during an outage). */
    maxAge: duration().refine((v) => v >= 1000 && v <= 3_600_000, 'must be between 1s and 1h').default(30_000),
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
export type { PipelineConfig } from '../../pipelines/schema.js';
export type { UplinkConfig } from '../uplink/schema.js';
export type { BufferConfig } from '../outbox/schema.js';
