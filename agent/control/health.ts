import type { Agent } from '../runtime/agent.js';

export interface Health {
  healthy: boolean;
  link: string;
  outboxWritable: boolean;
  sources: { total: number; down: number };
}

/**
 * What /healthz and `status` report. Healthy when the outbox takes writes (a broker outage alone
 * is what the outbox is for; an outbox that cannot be opened or written is degraded even while
 * the link carries the data from memory, since a restart or an outage would lose it) and not
 * every source is down.
 */
export function agentHealth(agent: Agent): Health {
  const link = agent.uplink.linkState;
  const outboxWritable = agent.outbox.stats().writable;
  const total = agent.sources.length;
  const down = agent.sources.filter((s) => s.currentState === 'down').length;
  const healthy = outboxWritable && (total === 0 || down < total);
  return { healthy, link, outboxWritable, sources: { total, down } };
}
