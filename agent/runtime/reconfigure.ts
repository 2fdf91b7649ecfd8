import { isDeepStrictEqual } from 'node:util';
import type { Config } from '../config/schema.js';
import type { Agent } from './agent.js';

export interface SwapResult {
  /** The uplink was rebuilt: the caller must watch that it reaches a broker (rollback). */
  uplinkChanged: boolean;
  /** The config that ran before (to roll back to). */
  previous: Config;
}

/** Settings whose change needs a new MQTT connection (batch sizes and maxDelay do not). */
function uplinkNeedsRebuild(a: Config, b: Config): boolean {
  return !isDeepStrictEqual(a.uplink.mqtt, b.uplink.mqtt)
    || a.uplink.maxBytesPerSecond !== b.uplink.maxBytesPerSecond
    || a.uplink.batch.encoding !== b.uplink.batch.encoding;
}

/**
 * Replace the running sources, pipelines and (when its settings changed) uplink with those of
 * `next`. Everything that can fail on bad input (driver lookup, stage construction) is built
 * BEFORE anything running is touched, so a failure there changes nothing. The outbox, its seq and
 * counters, and per-source counters stay. If the swap itself throws, the previous config is
 * swapped back in and the error rethrown.
 */
export async function swapConfig(agent: Agent, next: Config): Promise<SwapResult> {
  const previous = agent.config;
  const router = agent.buildRouter(next);
  const runners = agent.createSources(next, agent.sources);
  try {
    await install(agent, next, router, runners, uplinkNeedsRebuild(previous, next));
  } catch (e) {
    agent.log.error({ err: (e as Error).message }, 'config swap failed; restoring the previous config');
    await install(agent, previous, agent.buildRouter(previous), agent.createSources(previous, agent.sources), uplinkNeedsRebuild(agent.config, previous));
    throw e;
  }
  return { uplinkChanged: uplinkNeedsRebuild(previous, next), previous };
}

async function install(agent: Agent, next: Config, router: ReturnType<Agent['buildRouter']>, runners: ReturnType<Agent['createSources']>, newUplink: boolean): Promise<void> {
  // Old sources first: a serial port or GPIO line must be released before the new source opens it
  // (drivers persist pulse totals in dataDir on close).
  const prevUrl = agent.config.uplink.mqtt.url;
  await Promise.allSettled(agent.sources.map((s) => s.close()));
  // Stages hand over what they hold (aggregate's partial window) so nothing acquired is lost.
  agent.router.flush();
  agent.router = router;
  agent.sources = runners;
  agent.config = next;
  agent.outbox.setLimits({ maxBytes: next.buffer.maxBytes, overflow: next.buffer.overflow, batch: next.uplink.batch, memoryLimitBytes: next.buffer.memoryMaxBytes, flushInterval: next.buffer.flushInterval });
  agent.log.level = next.agent.logLevel;
  if (newUplink) {
    const old = agent.uplink;
    const base = agent.uplinkBase;
    base.connects += old.counters.connects;
    base.disconnects += old.counters.disconnects;
    base.batchesPublished += old.counters.batchesPublished;
    base.batchesAcked += old.counters.batchesAcked;
    base.bytesPublished += old.counters.bytesPublished;
    // Same client id on the same broker would kick each other: the old one goes first. Its
    // unacknowledged batches stay in the outbox and the new uplink sends them (same seq).
    agent.outbox.flush();
    // Moving brokers: tell the old one we left; same broker: the new birth message follows at once.
    await old.stop({ offline: prevUrl !== next.uplink.mqtt.url });
    agent.uplink = agent.buildUplink(next);
    agent.uplink.start();
  }
  await agent.openSources(runners);
}
