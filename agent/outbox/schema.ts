import { z } from 'zod';
import { duration, size } from '../../core/config-primitives.js';

/** The `buffer` section of the config file (composed into the whole schema by agent/config). */

export const bufferSchema = z.strictObject({
  maxBytes: size().default(64 * 1024 * 1024),
  overflow: z.enum(['drop-oldest', 'drop-newest', 'thin']).default('drop-oldest'),
  /** RAM for readings while the data dir refuses writes (full, read-only); oldest dropped and counted beyond. */
  memoryMaxBytes: size().default(16 * 1024 * 1024),
  flushInterval: duration().refine((v) => v >= 10, 'must be at least 10ms').default(1000),
});

export type BufferConfig = z.output<typeof bufferSchema>;
