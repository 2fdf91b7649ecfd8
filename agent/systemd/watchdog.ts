import type { Logger } from '../../core/log.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { Periodic } from '../../core/periodic.js';
import type { Notifier } from './notify.js';

/** A part of the daemon that must be seen moving for the keep-alive to go out. */
export interface ProgressProbe {
  name: string;
  /** Monotonic ms of the last sign of progress. */
  last(): number;
  /** Allowed silence in ms before the part counts as stalled. */
  maxSilenceMs: number;
}

/**
 * The keep-alive interval from systemd's environment: half of WatchdogSec (sd_watchdog_enabled's
 * advice), or undefined when the watchdog is off or meant for another process (WATCHDOG_PID).
 */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv = process.env, pid = process.pid): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.WATCHDOG_USEC || !Number.isFinite(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

/**
 * Sends WATCHDOG=1 every interval, but only while every probe shows recent progress. The check
 * runs on a timer of the event loop itself, so a blocked loop sends nothing by construction; the
 * probes cover what can wedge while the loop still turns (a source poll awaiting forever, timers
 * that stopped re-arming). Withholding lets systemd kill and restart the unit after WatchdogSec.
 */
export class Watchdog {
  private readonly timer: Periodic;
  private withholding = false;
  private startedAt = 0;
  sent = 0;

  constructor(
    private readonly notifier: Notifier,
    readonly intervalMs: number,
    private readonly probes: () => ProgressProbe[],
    private readonly log: Logger,
    private readonly clock: Clock = systemClock,
  ) {
    this.timer = new Periodic(intervalMs, () => this.check(), clock, true);
  }

  start(): this {
    this.startedAt = this.clock.mono();
    this.timer.start();
    return this;
  }

  stop(): void {
    this.timer.stop();
  }

  /** Names of stalled parts with their silence, empty when all move. */
  stalls(now = this.clock.mono()): string[] {
    const out: string[] = [];
    for (const p of this.probes()) {
      // Before a part's first sign of life, count from when we started watching.
      const silence = now - Math.max(p.last(), this.startedAt);
      if (silence > p.maxSilenceMs) out.push(`${p.name} silent ${Math.round(silence)} ms (max ${p.maxSilenceMs})`);
    }
    return out;
  }

  private check(): void {
    const stalled = this.stalls();
    if (stalled.length > 0) {
      if (!this.withholding) this.log.error({ stalled }, 'watchdog: withholding keep-alive, systemd will restart the daemon if this lasts');
      this.withholding = true;
      return;
    }
    if (this.withholding) this.log.warn('watchdog: all parts progress again, keep-alive resumed');
    this.withholding = false;
    // A keep-alive still waiting for PID 1 is as good as a new one: never queue them up.
    if (this.notifier.busy) return;
    this.sent++;
    void this.notifier.send('WATCHDOG=1');
  }
}
