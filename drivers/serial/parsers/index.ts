import { z } from 'zod';
import { createRegexParser, regexOptions } from './regex.js';
import { createKvParser, kvOptions, type KvOptions } from './kv.js';
import { createJsonParser, jsonOptions } from './json.js';
import { createNmeaParser, nmeaOptions, type NmeaOptions } from './nmea.js';
import type { LineParser } from './types.js';

export type { LineParser, ParseFailure, PointSink } from './types.js';

/** Parsers usable as a bare name (`parse: nmea`); regex always needs its pattern. */
const BARE = ['kv', 'json', 'nmea'] as const;

const parserObject = z.strictObject({
  regex: regexOptions.optional(),
  kv: kvOptions.optional(),
  json: jsonOptions.optional(),
  nmea: nmeaOptions.optional(),
});

export type ParserConfig =
  | { regex: string }
  | { kv: KvOptions }
  | { json: Record<string, never> }
  | { nmea: NmeaOptions };

const USAGE = 'expected kv, json, nmea, or a mapping such as { regex: \'T=(?<temp>[\\d.]+)\' } or { kv: { pairSeparator: ",", assign: ":" } }';

/**
 * `parse:` as in the SPEC: a bare name takes the defaults, a one-key mapping carries options.
 * Validated by hand (not z.union) so the error says what is allowed instead of "invalid input".
 */
export const parseSchema = z.unknown().transform((v, ctx): ParserConfig => {
  let obj = v;
  if (v === undefined) {
    ctx.issues.push({ code: 'custom', input: v, message: `required: ${USAGE}` });
    return z.NEVER;
  }
  if (typeof v === 'string') {
    if (!(BARE as readonly string[]).includes(v)) {
      ctx.issues.push({ code: 'custom', input: v, message: v === 'regex' ? 'regex needs its pattern: { regex: \'...\' }' : `unknown parser ${JSON.stringify(v)}: ${USAGE}` });
      return z.NEVER;
    }
    obj = { [v]: {} };
  } else if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    ctx.issues.push({ code: 'custom', input: v, message: USAGE });
    return z.NEVER;
  }
  const r = parserObject.safeParse(obj);
  if (!r.success) {
    for (const i of r.error.issues) ctx.issues.push({ ...i, input: undefined } as never);
    return z.NEVER;
  }
  const keys = Object.keys(r.data).filter((k) => (r.data as Record<string, unknown>)[k] !== undefined);
  if (keys.length !== 1) {
    ctx.issues.push({ code: 'custom', input: v, message: `one parser per source, got ${keys.length ? keys.join(', ') : 'none'}: ${USAGE}` });
    return z.NEVER;
  }
  return r.data as ParserConfig;
}).meta({
  description: 'line parser: kv | json | nmea | { regex: pattern } | { kv: { pairSeparator, assign } } | { nmea: { requireChecksum } }',
  // What editors should offer (the transform above hides the shape from z.toJSONSchema).
  anyOf: [
    { type: 'string', enum: [...BARE] },
    { ...z.toJSONSchema(parserObject, { io: 'input', unrepresentable: 'any' }), $schema: undefined, minProperties: 1, maxProperties: 1 },
  ],
});

export function createParser(cfg: ParserConfig): LineParser {
  if ('regex' in cfg) return createRegexParser(cfg.regex);
  if ('kv' in cfg) return createKvParser(cfg.kv);
  if ('json' in cfg) return createJsonParser();
  return createNmeaParser(cfg.nmea);
}

/** `parse` of a source in one word, for logs and diagnostics. */
export function parserName(cfg: ParserConfig): string {
  return Object.keys(cfg)[0];
}
