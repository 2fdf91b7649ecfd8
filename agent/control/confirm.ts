import type { Clock } from '../../core/clock.js';
import { redactUrl } from '../uplink/mqtt-uplink.js';
import type { Agent } from '../runtime/agent.js';

export type Proof = 'link' | 'sources';

/** How often the proof is looked at: cheap reads of counters, and an operator waits seconds anyway. */
const CHECK_EVERY_MS = 100;

export function formatWindow(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

export interface ProofRequest {
  require: readonly Proof[];
  windowMs: number;
  /** The uplink was rebuilt: its first connection is the proof (a brief one counts too). */
  uplinkChanged: boolean;
  /** Readings per source when the new runners were built: a proof is a reading after that. */
  readingsAtApply: ReadonlyMap<string, number>;
  clock: Clock;
}

/**
 * SPEC "Remote config": after a push is applied it must show what `confirm.require` asks within
 * `confirm.window`: `link` = the uplink reaches a broker; `sources` = every source of the new
 * config delivers a reading. Resolves as soon as everything is shown, or at the end of the window
 * with one line per failure, naming it (`sources.meter: no reading within 5 s (down: ...)`).
 * A source without a pollInterval (GPIO edges, a streaming serial line) may rightly be quiet: for
 * it, being open and `ok` is the proof.
 */
export function awaitProof(agent: Agent, req: ProofRequest): Promise<string[]> {
  const needLink = req.require.includes('link');
  const needSources = req.require.includes('sources');
  if (!needLink && !needSources) return Promise.resolve([]);
  const end = req.clock.mono() + req.windowMs;
  let linked = !needLink;
  if (needLink && req.uplinkChanged) void agent.uplink.connected.then(() => (linked = true));
  const waiting = (): string[] => (needSources ? agent.sources.filter((s) => s.readingCount <= (req.readingsAtApply.get(s.id) ?? 0) && !(s.pollIntervalMs === undefined && s.currentState === 'ok')).map((s) => s.id) : []);
  return new Promise((resolve) => {
    const check = () => {
      if (!linked && agent.uplink.linkState === 'connected') linked = true;
      const quiet = waiting();
      if (linked && quiet.length === 0) return resolve([]);
      if (req.clock.mono() < end) return void setTimeout(check, Math.min(CHECK_EVERY_MS, Math.max(1, end - req.clock.mono())));
      const failures: string[] = [];
      const within = formatWindow(req.windowMs);
      if (!linked) failures.push(`uplink.mqtt: ${redactUrl(agent.config.uplink.mqtt.url)} not reached within ${within}`);
      for (const id of quiet) {
        const st = agent.sources.find((s) => s.id === id)!.status();
        const last = st.lastError && !st.detail?.includes(st.lastError.message) ? `last error ${st.lastError.kind}: ${st.lastError.message}` : undefined;
        const why = [st.detail, last].filter(Boolean).join('; ');
        failures.push(`sources.${id}: no reading within ${within} (${st.state}${why ? `: ${why}` : ''})`);
      }
      resolve(failures);
    };
    check();
  });
}
