import type { Command } from 'commander';
import { ask, targetOptions, type TargetOptions } from './control-target.js';
import type { SourceStatus } from '../runtime/source-runner.js';
import { plural } from './common.js';

interface StatusDoc {
  agent: string;
  version: string;
  pid: number;
  startedAt: number;
  config: { version: number; origin: string; hash: string };
  configState: { version: number; status: string; errors: string[]; at: number } | null;
  link: { state: string; since: number; inflight: number; connects: number; disconnects: number; batchesAcked: number; lastLatencyMs: number };
  outbox: { stream?: string; writable?: boolean; writeError?: string; rows: number; readings: number; payloadBytes: number; fileBytes: number; capBytes: number; oldestTs: number | null; droppedOverflow: number; droppedThinned: number; droppedMemory: number };
  sources: SourceStatus[];
  uplink?: { profile: string; groupId?: string; edgeNodeId?: string; bdSeq?: number; seq?: number; born?: boolean; devicesBorn?: number; dcmdRejected?: number; primaryHost?: { id: string; state: string } | null };
  health?: { healthy: boolean; outboxWritable?: boolean };
  remoteConfig?: { mode: string; note?: string; groups: string[] };
  commands?: { enabled: boolean; done: number; rejected: number; failed: number; recent: { id: string | null; source?: unknown; point?: unknown; value?: unknown; status: string; rule?: string; error?: string; at: number }[] };
}

const iso = (t: number | null | undefined) => (t ? new Date(t).toISOString() : '-');
function ago(t: number | null | undefined, now: number): string {
  if (!t) return 'never';
  const s = Math.max(0, Math.round((now - t) / 1000));
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}

function commandsLine(c: NonNullable<StatusDoc['commands']>, now: number): string {
  const counts = `${c.done} done, ${c.rejected} rejected, ${c.failed} failed`;
  const last = c.recent[0];
  const lastTxt = last ? `; last ${ago(last.at, now)}: ${String(last.source)}/${String(last.point)} = ${JSON.stringify(last.value)} ${last.status}${last.rule ? ` (${last.rule})` : last.error ? ` (${last.error})` : ''}` : '';
  return c.enabled ? `on, ${counts}${lastTxt}` : `off (no control.commands.publicKey)${c.done + c.rejected + c.failed ? `; ${counts}${lastTxt}` : ''}`;
}

export function formatStatus(s: StatusDoc, now = Date.now()): string {
  const out: string[] = [];
  const kv = (k: string, v: string) => out.push(`${k.padEnd(14)} ${v}`);
  kv('agent', `${s.agent} (edge-agent ${s.version}, pid ${s.pid}, up since ${iso(s.startedAt)})`);
  kv('health', s.health ? (s.health.healthy ? 'healthy' : `UNHEALTHY${s.health.outboxWritable === false ? ' (degraded: the outbox takes no writes)' : ''}`) : '-');
  kv('config', `version ${s.config.version} from ${s.config.origin}${s.config.hash ? ` (sha256 ${s.config.hash.slice(0, 12)})` : ''}`);
  if (s.remoteConfig) kv('remote config', s.remoteConfig.mode === 'off' ? `off (${s.remoteConfig.note})` : `${s.remoteConfig.mode === 'unsigned' ? 'UNSIGNED pushes accepted (allowUnsigned: lab only)' : 'signed pushes only'}${s.remoteConfig.groups.length ? `, groups ${s.remoteConfig.groups.join(', ')}` : ''}`);
  if (s.configState) kv('last change', `${s.configState.status} version ${s.configState.version} at ${iso(s.configState.at)}${s.configState.errors.length ? `: ${s.configState.errors.join('; ')}` : ''}`);
  kv('link', `${s.link.state} for ${ago(s.link.since, now).replace(' ago', '')}, ${s.link.inflight} in flight, ${plural(s.link.connects, 'connect')}, ${plural(s.link.disconnects, 'drop')}, last ack latency ${Math.round(s.link.lastLatencyMs)} ms`);
  const u = s.uplink;
  if (u?.profile === 'sparkplug-b') {
    const host = u.primaryHost ? `primary host ${u.primaryHost.id} ${u.primaryHost.state}` : 'no primary host';
    kv('sparkplug', `group ${u.groupId}, node ${u.edgeNodeId}, bdSeq ${u.bdSeq}, next seq ${u.seq}, ${u.born ? 'born' : 'not born'}, ${u.devicesBorn} devices, ${host}, DCMD rejected ${u.dcmdRejected}`);
  }
  const o = s.outbox;
  kv('outbox', `${plural(o.rows, 'batch', 'batches')}, ${plural(o.readings, 'reading')}, ${o.payloadBytes} of ${plural(o.capBytes, 'byte')}, oldest ${iso(o.oldestTs)}`);
  kv('stream', `${o.stream ?? '-'} (consumers dedupe on agent, stream, seq)`);
  if (o.writeError) kv('outbox error', o.writeError);
  kv('drops', `overflow ${o.droppedOverflow}, thinned ${o.droppedThinned}, memory ${o.droppedMemory}`);
  if (s.commands) kv('commands', commandsLine(s.commands, now));
  out.push('');
  out.push(`${'SOURCE'.padEnd(16)} ${'DRIVER'.padEnd(12)} ${'STATE'.padEnd(12)} ${'READINGS'.padStart(9)} ${'LAST READING'.padEnd(14)} ERRORS`);
  for (const src of s.sources) {
    const errs = Object.entries(src.errors).map(([k, n]) => `${k}=${n}`).join(' ') || '0';
    out.push(`${src.id.padEnd(16)} ${src.driver.padEnd(12)} ${src.state.padEnd(12)} ${String(src.readings).padStart(9)} ${ago(src.lastReadingAt, now).padEnd(14)} ${errs}${src.detail ? `  (${src.detail})` : ''}`);
  }
  if (s.sources.length === 0) out.push('(no sources)');
  return out.join('\n') + '\n';
}

export function register(program: Command): void {
  targetOptions(program.command('status'))
    .description('ask the running daemon: sources, errors, link, outbox, config version')
    .option('--json', 'machine-readable output')
    .action(async (opts: TargetOptions & { json?: boolean }) => {
      const s = (await ask(opts, 'status')) as StatusDoc;
      process.stdout.write(opts.json ? JSON.stringify(s) + '\n' : formatStatus(s));
    });
}
