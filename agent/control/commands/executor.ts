import type { Logger } from '../../../core/log.js';
import type { Value } from '../../../core/reading.js';
import { WriteFailed } from '../../../drivers/types.js';
import type { SourceRunner } from '../../runtime/source-runner.js';
import type { RejectRule } from './envelope.js';

/** A write asked for by some origin (`mqtt` after its signature checks, `sparkplug` after the broker ACL, `cli`). */
export interface WriteRequest {
  /** The origin's id for it (command id, or one made up by the origin). */
  id: string;
  source: string;
  point: string;
  value: unknown;
}

export type CommandStatus = 'done' | 'rejected' | 'failed';

/** The `.../cmd/result` document (SPEC "Commands"). */
export interface CommandResult {
  id: string | null;
  status: CommandStatus;
  /** rejected: the rule; failed: the device error. */
  error?: string;
  rule?: RejectRule;
  /** done: the value read back from the device. */
  value?: Value;
  at: number;
}

/** One command as `status` lists it. */
export interface CommandRecord {
  id: string | null;
  origin: string;
  source?: unknown;
  point?: unknown;
  value?: unknown;
  status: CommandStatus;
  rule?: RejectRule;
  error?: string;
  readBack?: Value;
  at: number;
  ms?: number;
}

const RECENT = 20;

/**
 * The one place a write to a device is decided and run, whatever asked for it: known source and
 * point, writable by config, right type, within range; then the driver's write on the device's own
 * queue, and the read-back. Every command is counted, logged once (id, source, point, value,
 * outcome) and kept among the last few for `status`. The MQTT channel (channel.ts) adds the
 * signature, freshness and replay checks in front; Sparkplug DCMD calls execute() directly.
 */
export class CommandExecutor {
  readonly counts: Record<CommandStatus, number> = { done: 0, rejected: 0, failed: 0 };
  readonly rejections = new Map<RejectRule, number>();
  readonly recent: CommandRecord[] = [];

  constructor(private readonly sources: () => readonly SourceRunner[], private readonly log: Logger, private readonly now: () => number = Date.now) {}

  async execute(req: WriteRequest, origin: string): Promise<CommandResult> {
    const started = performance.now();
    const runner = this.sources().find((s) => s.id === req.source);
    if (!runner) return this.reject(req, origin, 'unknown-source', `unknown-source: no running source "${String(req.source)}"`);
    const pointNames = runner.pointNames();
    const spec = runner.writable(req.point);
    if (!spec) {
      if (pointNames && !pointNames.includes(req.point)) return this.reject(req, origin, 'unknown-point', `unknown-point: source "${req.source}" has no point "${req.point}"`);
      return this.reject(req, origin, 'not-writable', `not-writable: ${req.source}/${req.point} is read-only (the config gives it no write rule)`);
    }
    const v = req.value;
    if (spec.type === 'bool') {
      if (typeof v !== 'boolean') return this.reject(req, origin, 'type', `type: ${req.source}/${req.point} takes true or false, got ${JSON.stringify(v)}`);
    } else {
      if (typeof v !== 'number' || !Number.isFinite(v)) return this.reject(req, origin, 'type', `type: ${req.source}/${req.point} takes a number, got ${JSON.stringify(v)}`);
      if (spec.integer && !Number.isInteger(v)) return this.reject(req, origin, 'type', `type: ${req.source}/${req.point} takes whole numbers, got ${v}`);
      if (v < spec.min || v > spec.max) return this.reject(req, origin, 'range', `range: ${v} is outside ${spec.min}..${spec.max} for ${req.source}/${req.point}`);
    }
    let readBack: Value | undefined;
    try {
      readBack = await runner.write(req.point, v as Value);
    } catch (e) {
      const msg = e instanceof WriteFailed ? e.message : `internal error: ${(e as Error).message}`;
      return this.finish(req, origin, { id: req.id, status: 'failed', error: msg, at: this.now() }, started);
    }
    return this.finish(req, origin, { id: req.id, status: 'done', ...(readBack !== undefined ? { value: readBack } : {}), at: this.now() }, started);
  }

  /** A refusal, counted and logged like any outcome (also for the channel's own rules). */
  reject(req: Omit<Partial<WriteRequest>, 'id'> & { id: string | null }, origin: string, rule: RejectRule, error: string): CommandResult {
    this.rejections.set(rule, (this.rejections.get(rule) ?? 0) + 1);
    return this.finish(req, origin, { id: req.id, status: 'rejected', rule, error, at: this.now() });
  }

  private finish(req: Omit<Partial<WriteRequest>, 'id'> & { id: string | null }, origin: string, res: CommandResult, started?: number): CommandResult {
    this.counts[res.status]++;
    const rec: CommandRecord = {
      id: res.id, origin, source: req.source, point: req.point, value: req.value, status: res.status,
      ...(res.rule ? { rule: res.rule } : {}), ...(res.error ? { error: res.error } : {}),
      ...(res.value !== undefined ? { readBack: res.value } : {}), at: res.at,
      ...(started !== undefined ? { ms: Math.round(performance.now() - started) } : {}),
    };
    this.recent.push(rec);
    if (this.recent.length > RECENT) this.recent.shift();
    const lvl = res.status === 'done' ? 'info' : 'warn';
    this.log[lvl]({ id: res.id, origin, source: req.source, point: req.point, value: req.value, outcome: res.status, rule: res.rule, error: res.error, readBack: res.value, ms: rec.ms }, `command ${res.status}`);
    return res;
  }

  status() {
    return { ...this.counts, rejectedBy: Object.fromEntries(this.rejections), recent: [...this.recent].reverse() };
  }
}
