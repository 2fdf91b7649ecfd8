import { z } from 'zod';
import { duration, sourceBase } from '../../core/config-primitives.js';
import { parseSchema } from './parsers/index.js';
import { decodeEscapes } from './escapes.js';

/** Text with \r \n \t \xHH escapes decoded (see escapes.ts). */
const escaped = () => z.string().min(1).transform(decodeEscapes);

const querySchema = z.strictObject({
  /** Bytes written to ask the sensor for a reading, e.g. "R\r". */
  send: escaped(),
  every: duration().refine((v) => v >= 10, 'must be at least 10ms'),
  /** No line within this time after sending counts a `timeout` error. */
  timeout: duration().default(1000),
}).superRefine((q, ctx) => {
  if (q.timeout >= q.every) ctx.addIssue({ code: 'custom', path: ['timeout'], message: `must be shorter than every (${q.every} ms)` });
});

export const serialSchema = z.strictObject({
  ...sourceBase,
  driver: z.literal('serial'),
  port: z.string().min(1),
  baudRate: z.int().positive().default(9600),
  dataBits: z.union([z.literal(5), z.literal(6), z.literal(7), z.literal(8)]).default(8),
  parity: z.enum(['none', 'even', 'odd', 'mark', 'space']).default('none'),
  stopBits: z.union([z.literal(1), z.literal(1.5), z.literal(2)]).default(1),
  /** Line end. Default "\n", which also accepts "\r\n" (a trailing CR is stripped). */
  delimiter: escaped().refine((d) => Buffer.byteLength(d) <= 8, 'at most 8 bytes').default('\n'),
  /** Longer lines are dropped up to the next delimiter and counted as `overlong`. */
  maxLineLength: z.int().min(8).max(65536).default(1024),
  parse: parseSchema,
  query: querySchema.optional(),
  /** Reopen backoff after the port vanished (USB unplug) or failed to open: full jitter between these. */
  reconnectMin: duration().refine((v) => v >= 10, 'must be at least 10ms').default(200),
  reconnectMax: duration().default(2000),
}).superRefine((c, ctx) => {
  if (c.reconnectMax < c.reconnectMin) ctx.addIssue({ code: 'custom', path: ['reconnectMax'], message: 'must be >= reconnectMin' });
});

export type SerialConfig = z.output<typeof serialSchema>;
