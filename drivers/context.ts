import type { Logger } from '../core/log.js';
import { silentLogger } from '../core/log.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { Quality, Value } from '../core/reading.js';
import { SharedHost } from './host.js';
import type { DriverHost, SourceContext, SourceState } from './types.js';

/** What a standalone context does with a driver's output; every part is optional. */
export interface StandaloneOptions {
  sourceId?: string;
  log?: Logger;
  clock?: Clock;
  /** Default: a path that does not exist (a CLI tool persists nothing). */
  dataDir?: string;
  /** Default: a host of its own. */
  host?: DriverHost;
  /** `ts` is filled in from the clock when the driver gave none. */
  emit?(point: string, value: Value, quality: Quality | undefined, ts: number): void;
  error?(kind: string, message: string, point?: string): void;
  setState?(state: SourceState, detail?: string): void;
}

/**
 * A SourceContext outside the daemon's runtime: a CLI tool running one driver (`serial monitor`,
 * `gpio watch`) or a driver test. No stamping, counting or routing: the handlers see it all.
 */
export function standaloneContext(o: StandaloneOptions = {}): SourceContext {
  const clock = o.clock ?? systemClock;
  return {
    sourceId: o.sourceId ?? 'standalone',
    log: o.log ?? silentLogger,
    clock,
    dataDir: o.dataDir ?? '/nonexistent',
    host: o.host ?? new SharedHost(),
    emit: (point, value, quality, ts) => o.emit?.(point, value, quality, ts ?? clock.now()),
    error: (kind, message, point) => o.error?.(kind, message, point),
    setState: (state, detail) => o.setState?.(state, detail),
  };
}
