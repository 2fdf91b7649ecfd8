import type { Config } from '../config/schema.js';
import type { ConfigError } from '../config/errors.js';
import { formatError } from '../config/errors.js';
import { mergeRemote } from './merge.js';
import { configHash, verifySignature } from './signature.js';
import { remotePolicy } from './remote-policy.js';
import type { FloorReason } from './persist.js';

export interface PushAccepted {
  ok: true;
  version: number;
  hash: string;
  /** The config as pushed (what is persisted and hashed). */
  raw: Record<string, unknown>;
  /** Validated, resolved, with the running local-only values. */
  config: Config;
  signature?: string;
}
export interface PushRejected {
  ok: false;
  version?: number;
  hash?: string;
  errors: string[];
}

export interface PushContext {
  running: Config;
  runningVersion: number;
  /** Versions at or below this were already tried (rolled back): a replay would brick the link again. */
  minVersion: number;
  /** Why minVersion is what it is (default: a rolled-back push). */
  minWhy?: FloorReason;
  baseDir: string;
}

const reject = (errors: string[], version?: number, hash?: string): PushRejected => ({ ok: false, version, hash, errors });

/**
 * Everything a push must pass before anything running is touched (SPEC "Remote config"), cheapest
 * and least trusting first: size, JSON, envelope, signature, version, schema, local-only keys.
 */
export function checkPush(payload: Buffer, ctx: PushContext): PushAccepted | PushRejected {
  const rc = ctx.running.control.remoteConfig;
  if (payload.length > rc.maxBytes) return reject([`payload: ${payload.length} bytes exceeds control.remoteConfig.maxBytes (${rc.maxBytes})`]);
  let doc: unknown;
  try {
    doc = JSON.parse(payload.toString('utf8'));
  } catch (e) {
    return reject([`payload: not JSON: ${(e as Error).message}`]);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return reject(['payload: expected {"version": N, "config": {...}, "signature": "..."}']);
  const { version, config, signature, ...extra } = doc as Record<string, unknown>;
  const errs: string[] = Object.keys(extra).map((k) => `${k}: unknown key (expected version, config, signature)`);
  const v = typeof version === 'number' && Number.isSafeInteger(version) && version > 0 ? version : undefined;
  if (v === undefined) errs.push(`version: expected a positive integer, got ${JSON.stringify(version) ?? 'nothing'}`);
  if (config === null || typeof config !== 'object' || Array.isArray(config)) errs.push('config: expected a mapping');
  if (errs.length) return reject(errs, v);
  const hash = configHash(config);
  const policy = remotePolicy(ctx.running);
  if (policy.mode === 'off') return reject([`remote config is off: ${policy.note}`], v, hash);
  if (policy.mode === 'signed') {
    const bad = verifySignature(v!, config, signature, rc.publicKey!);
    if (bad) return reject([bad], v, hash);
  }
  if (v! <= ctx.runningVersion) return reject([`version: ${v} is not greater than the running version ${ctx.runningVersion} (replay?)`], v, hash);
  if (v! <= ctx.minVersion) {
    const why = { 'rolled-back': 'was already tried and rolled back', reverted: 'or a greater one was reverted on this board (`edge-agent config revert`)', 'set-aside': 'or a greater one was set aside when remote config was turned off' }[ctx.minWhy ?? 'rolled-back'];
    return reject([`version: ${v} ${why}; push a greater version`], v, hash);
  }
  const merged = mergeRemote(config, ctx.running, ctx.baseDir, true);
  if (!merged.ok) return reject(merged.errors.map((e: ConfigError) => formatError(e)), v, hash);
  return { ok: true, version: v!, hash, raw: config as Record<string, unknown>, config: merged.config, signature: typeof signature === 'string' ? signature : undefined };
}
