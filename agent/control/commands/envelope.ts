import { canonicalJson } from '../jcs.js';
import { signBytes, verifyBytes } from '../signature.js';

/** A command as it arrives on `.../cmd` (SPEC "Commands"). */
export interface CommandEnvelope {
  id: string;
  source: string;
  point: string;
  value: number | boolean;
  /** When it was issued, epoch ms (the issuer's clock). */
  ts: number;
  signature?: unknown;
}

/** Why a command was refused, as a short stable label (result `rule`, metrics label). */
export type RejectRule =
  | 'malformed' | 'retained' | 'signature' | 'stale' | 'future' | 'replay' | 'replay-store'
  | 'unknown-source' | 'unknown-point' | 'not-writable' | 'type' | 'range';

/** How far ahead of the board's clock a command's ts may be (SPEC: 5 s). */
export const MAX_AHEAD_MS = 5000;
/** Longest command id kept (ids are persisted: bound their size). */
export const MAX_ID_LENGTH = 128;

/** The bytes signed: JCS of {"id", "point", "source", "ts", "value"}, UTF-8. */
export function commandBytes(c: Pick<CommandEnvelope, 'id' | 'point' | 'source' | 'ts' | 'value'>): Buffer {
  return Buffer.from(canonicalJson({ id: c.id, point: c.point, source: c.source, ts: c.ts, value: c.value }), 'utf8');
}

export function signCommand(c: Pick<CommandEnvelope, 'id' | 'point' | 'source' | 'ts' | 'value'>, privateKeyPem: string | Buffer): string {
  return signBytes(commandBytes(c), privateKeyPem);
}

export type Checked =
  | { ok: true; cmd: CommandEnvelope }
  | { ok: false; id: string | null; rule: RejectRule; error: string; cmd?: Partial<CommandEnvelope> };

/**
 * Everything about a command that does not need the device: shape, not retained, signature,
 * freshness (`now` is the wall clock). Source, point, writability, type and range are the
 * executor's (shared with origins that have no signature, such as Sparkplug DCMD).
 */
export function checkEnvelope(payload: Buffer, retained: boolean, opts: { publicKey: string; maxAgeMs: number; now: number }): Checked {
  let doc: unknown;
  try {
    doc = JSON.parse(payload.toString('utf8'));
  } catch (e) {
    return { ok: false, id: null, rule: 'malformed', error: `malformed: not JSON (${(e as Error).message})` };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { ok: false, id: null, rule: 'malformed', error: 'malformed: expected a JSON object' };
  const d = doc as Record<string, unknown>;
  const id = typeof d.id === 'string' && d.id.length > 0 && d.id.length <= MAX_ID_LENGTH ? d.id : null;
  const bad = (rule: RejectRule, error: string): Checked => ({ ok: false, id, rule, error, cmd: d as Partial<CommandEnvelope> });
  if (id === null) return bad('malformed', `malformed: id: expected a string of 1..${MAX_ID_LENGTH} characters, got ${JSON.stringify(d.id)}`);
  for (const k of ['source', 'point'] as const) if (typeof d[k] !== 'string' || !d[k]) return bad('malformed', `malformed: ${k}: expected a non-empty string, got ${JSON.stringify(d[k])}`);
  if (!Number.isInteger(d.ts)) return bad('malformed', `malformed: ts: expected integer epoch milliseconds, got ${JSON.stringify(d.ts)}`);
  if (typeof d.value !== 'boolean' && (typeof d.value !== 'number' || !Number.isFinite(d.value))) return bad('type', `type: value: expected a number or true/false, got ${JSON.stringify(d.value)}`);
  const extra = Object.keys(d).filter((k) => !['id', 'source', 'point', 'value', 'ts', 'signature'].includes(k));
  if (extra.length) return bad('malformed', `malformed: unknown key${extra.length > 1 ? 's' : ''} ${extra.join(', ')} (not signed, so not accepted)`);
  // A retained command would fire again at every reconnect of every subscriber.
  if (retained) return bad('retained', 'retained: commands must not be retained messages (it would fire again at every reconnect)');
  const cmd = d as unknown as CommandEnvelope;
  const sig = verifyBytes(commandBytes(cmd), d.signature, opts.publicKey, 'control.commands.publicKey');
  if (sig) return bad('signature', sig);
  const age = opts.now - cmd.ts;
  if (age > opts.maxAgeMs) return bad('stale', `stale: issued ${fmtAge(age)} ago, more than maxAge ${fmtAge(opts.maxAgeMs)} (a command held back by an outage must not fire late)`);
  if (-age > MAX_AHEAD_MS) return bad('future', `future: ts is ${fmtAge(-age)} ahead of this board's clock (at most ${MAX_AHEAD_MS / 1000} s allowed; check both clocks)`);
  return { ok: true, cmd };
}

function fmtAge(ms: number): string {
  return ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${(ms / 1000).toFixed(1)} s`;
}
