import type { Agent } from '../runtime/agent.js';

export interface Health {
  healthy: boolean;
  link: string;
  outboxWritable: boolean;
  sources: { total: number; down: number };
}

/**
 * What /healthz and `status` report. Healthy when the data has somewhere to go (link up, or the
 * outbox still takes writes: a broker outage alone is what the outbox is for) and not every
 * source is down.
 */
export function agentHealth(agent: Agent): Health {
  const link = agent.uplink.linkState;
  const outboxWritable = agent.outbox.stats().heldBatches === 0;
  const total = agent.sources.length;
  const down = agent.sources.filter((s) => s.currentState === 'down').length;
  const healthy = (link === 'connected' || outboxWritable) && (total === 0 || down < total);
  return { healthy, link, outboxWritable, sources: { total, down } };
}
