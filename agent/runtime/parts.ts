import type { Logger } from '../../core/log.js';
import type { Reading } from '../../core/reading.js';
import type { BatchSource } from '../../core/batch.js';
import type { StageContext } from '../../pipelines/types.js';
import type { Config } from '../config/schema.js';
import { Outbox } from '../outbox/outbox.js';
import { MqttUplink, type UplinkHooks } from '../uplink/mqtt-uplink.js';
import { Router } from '../../pipelines/router.js';

/** What the Agent uses of the outbox (the uplink sees only BatchSource). */
export type AgentOutbox = BatchSource & Pick<Outbox, 'add' | 'flush' | 'stats' | 'setLimits' | 'close' | 'file' | 'startFlushing' | 'stopFlushing' | 'flushTimer' | 'writable'>;
/** What the Agent and the control plane use of an uplink. */
export type AgentUplink = Pick<MqttUplink, 'topics' | 'linkState' | 'stateAgeMs' | 'inflightCount' | 'counters' | 'connected' | 'start' | 'stop' | 'kick' | 'settle' | 'publishStatus' | 'publishRetained' | 'profileStatus'>;
export type AgentRouter = Pick<Router, 'push' | 'tick' | 'flush'>;

/**
 * How the Agent builds its parts. Injected so a config swap (new router, new uplink, same outbox)
 * is unit-testable without a broker or a disk; the defaults are the real ones.
 */
export interface AgentParts {
  outbox(config: Config, log: Logger): AgentOutbox;
  uplink(config: Config, outbox: BatchSource, log: Logger, hooks: UplinkHooks): AgentUplink;
  router(config: Config, sink: (r: Reading) => void, ctx: StageContext): AgentRouter;
}

export const defaultParts: AgentParts = {
  outbox: (config, log) => new Outbox({
    agentId: config.agent.id,
    dataDir: config.agent.dataDir,
    maxBytes: config.buffer.maxBytes,
    overflow: config.buffer.overflow,
    memoryLimitBytes: config.buffer.memoryMaxBytes,
    deferWrites: true,
    batch: config.uplink.batch,
    log,
  }),
  uplink: (config, outbox, log, hooks) => new MqttUplink(config.uplink, config.agent.id, outbox, log, hooks),
  router: (config, sink, ctx) => new Router(config.pipelines, sink, ctx),
};
