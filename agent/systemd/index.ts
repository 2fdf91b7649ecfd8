import type { Logger } from '../../core/log.js';
import type { Agent } from '../runtime/agent.js';
import { systemdNotifier, type Notifier } from './notify.js';
import { Watchdog, watchdogIntervalMs, type ProgressProbe } from './watchdog.js';

export interface SystemdLink {
  readonly notifier: Notifier;
  readonly watchdog?: Watchdog;
  /** STOPPING=1 and no more keep-alives. Resolves once sent (or failed). */
  stopping(): Promise<void>;
}

/** Silence allowed to a source in state `ok`, in poll intervals, before it counts as wedged. */
const SOURCE_POLLS = 5;
/** Silence allowed to the flush and pipeline timers, in their periods. */
const TIMER_PERIODS = 3;

/**
 * What must move for the keep-alive: the outbox writer (flush timer: cuts batches and commits
 * them), the pipeline ticker, and every polled source that says it is `ok` (its emits, errors
 * and state changes are its progress). Sources that are down or backing off wait by design and
 * are not judged; sources without a pollInterval (event-driven) cannot be.
 */
export function agentProbes(agent: Agent, intervalMs: number): ProgressProbe[] {
  const { flush, tick } = agent.scheduler;
  const probes: ProgressProbe[] = [
    { name: 'outbox writer', last: () => flush.lastTick, maxSilenceMs: Math.max(intervalMs, TIMER_PERIODS * flush.periodMs) },
    { name: 'pipeline ticker', last: () => tick.lastTick, maxSilenceMs: Math.max(intervalMs, TIMER_PERIODS * tick.periodMs) },
  ];
  for (const s of agent.sources) {
    const poll = s.pollIntervalMs;
    if (poll === undefined || s.currentState !== 'ok') continue;
    probes.push({ name: `source ${s.id}`, last: () => s.lastActivity, maxSilenceMs: Math.max(intervalMs, SOURCE_POLLS * poll) });
  }
  return probes;
}

/** READY=1 now (config loaded, outbox open, sources started) and the watchdog if systemd asked for one. */
export function linkSystemd(agent: Agent, log: Logger, env: NodeJS.ProcessEnv = process.env): SystemdLink {
  const notifier = systemdNotifier(log.child({ part: 'systemd' }), env);
  if (!notifier.enabled) return { notifier, stopping: async () => {} };
  void notifier.send('READY=1', `STATUS=running, ${agent.sources.length} sources`);
  const interval = watchdogIntervalMs(env);
  const watchdog = interval === undefined ? undefined : new Watchdog(notifier, interval, () => agentProbes(agent, interval), log.child({ part: 'watchdog' })).start();
  log.info({ notifySocket: env.NOTIFY_SOCKET, watchdogIntervalMs: interval }, 'systemd notified: ready');
  return {
    notifier,
    watchdog,
    async stopping() {
      watchdog?.stop();
      await notifier.send('STOPPING=1');
    },
  };
}
