import { z } from 'zod';
import { excerpt, POINT_NAME, type LineParser, type PointSink } from './types.js';

/**
 * `parse: json`: one JSON object per line; each key is a point. Nested objects become
 * dotted names (`{"env":{"t":1}}` -> `env.t`); null is skipped (no value); arrays are indexed.
 */
export const jsonOptions = z.strictObject({});

export function createJsonParser(): LineParser {
  return {
    parse(line, out) {
      let doc: unknown;
      try {
        doc = JSON.parse(line);
      } catch (e) {
        return { kind: 'parse', message: `invalid JSON (${(e as Error).message}): ${excerpt(line)}` };
      }
      if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
        return { kind: 'parse', message: `expected a JSON object per line, got ${excerpt(line)}` };
      }
      const bad = walk(doc as Record<string, unknown>, '', out);
      return bad === undefined ? undefined : { kind: 'parse', message: `key ${JSON.stringify(bad)} is not a valid point name in ${excerpt(line)}` };
    },
  };
}

/** Emits every leaf; returns the first key that cannot be a point name (the rest are still emitted). */
function walk(o: Record<string, unknown> | unknown[], prefix: string, out: PointSink): string | undefined {
  let bad: string | undefined;
  for (const [k, v] of Object.entries(o)) {
    const name = prefix + k;
    if (v === null || v === undefined) continue;
    if (typeof v === 'object') {
      bad ??= walk(v as Record<string, unknown>, name + '.', out);
      continue;
    }
    if (!POINT_NAME.test(name)) {
      bad ??= name;
      continue;
    }
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') out(name, v);
  }
  return bad;
}
