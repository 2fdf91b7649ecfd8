import { z } from 'zod';
import { parseDuration, parseSize } from './units.js';

/**
 * Schema building blocks shared by the core, the drivers and the stages.
 * Durations and sizes accept the SPEC's text forms and come out as integer ms / bytes.
 */
/** Negative numbers (or "-5s") get their own message instead of zod's "Too small: expected number to be >=0". */
function negative(v: unknown): boolean {
  return (typeof v === 'number' && v < 0) || (typeof v === 'string' && v.trim().startsWith('-'));
}

export const duration = () =>
  z.union([z.number(), z.string()])
    .transform((v, ctx) => {
      if (negative(v)) {
        ctx.issues.push({ code: 'custom', input: v, message: `invalid duration ${JSON.stringify(v)}: a duration cannot be negative` });
        return z.NEVER;
      }
      const ms = parseDuration(v);
      if (ms === undefined) {
        ctx.issues.push({ code: 'custom', input: v, message: `invalid duration ${JSON.stringify(v)}: expected e.g. 250ms, 10s, 5m, 1h or integer milliseconds` });
        return z.NEVER;
      }
      return ms;
    })
    .meta({ description: 'duration: 250ms, 10s, 5m, 1h or integer milliseconds', minimum: 0 });

/** A duration that must be above zero (intervals, periods, timeouts): 0 would spin or never fire. */
export const positiveDuration = () => duration().refine((v) => v > 0, 'must be greater than 0 (e.g. 250ms, 10s)');

export const size = () =>
  z.union([z.number(), z.string()])
    .transform((v, ctx) => {
      if (negative(v)) {
        ctx.issues.push({ code: 'custom', input: v, message: `invalid size ${JSON.stringify(v)}: a size cannot be negative` });
        return z.NEVER;
      }
      const b = parseSize(v);
      if (b === undefined) {
        ctx.issues.push({ code: 'custom', input: v, message: `invalid size ${JSON.stringify(v)}: expected e.g. 64MiB, 512KiB or integer bytes` });
        return z.NEVER;
      }
      return b;
    })
    .meta({ description: 'size: 64MiB, 512KiB or integer bytes', minimum: 0 });

/** Source and point ids end up in topics and globs: keep them plain. */
export const identifier = () =>
  z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'expected letters, digits, "_", ".", ":" or "-"');

/** Fields every source has, whatever its driver. */
export const sourceBase = {
  id: identifier(),
  enabled: z.boolean().default(true),
};
