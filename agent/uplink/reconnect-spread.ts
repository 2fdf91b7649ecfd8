/**
 * When to try the broker again after the link dropped (issue 12 item 11, `uplink.mqtt.reconnectSpread`).
 *
 * An agent cannot see the broker return: it only sees its own attempts fail until one succeeds.
 * So "back within the window after the broker returns" needs every agent to try at least once
 * per window, and "spread evenly" needs the fleet's attempts to be uniformly phased inside it:
 *
 * 1. the first retry comes after random(floor, reconnectMin): a blip of our own link or a broker
 *    restart is bridged at once;
 * 2. if that fails too, the agent picks a random phase, random(0, period);
 * 3. from then on it tries every `period` exactly, keeping its phase.
 *
 * period = min(reconnectSpread, reconnectMax). Whenever the broker comes back, each agent's next
 * attempt falls in [return, return + period), uniformly over the fleet (every phase is equally
 * likely, however long the outage was): N agents arrive at about N/period per second, and none
 * later than one period. Exponential backoff (the old schedule) spread the fleet over up to
 * reconnectMax (60 s) and bunched the early ones; a failed attempt (a refused TCP connect) costs
 * the broker host next to nothing, so one per agent per period is cheap.
 */
export class ReconnectSchedule {
  private attempt = 0;
  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly spreadMs: number,
    private readonly random: () => number = Math.random,
    private readonly floorMs = 100,
  ) {}

  /** The steady retry period (the window the fleet comes back in). */
  get periodMs(): number {
    return Math.max(1, Math.min(this.spreadMs, this.maxMs));
  }

  next(): number {
    const n = this.attempt++;
    const period = this.periodMs;
    if (n === 0) return Math.min(period, Math.max(this.floorMs, Math.floor(this.random() * this.minMs)));
    if (n === 1) return Math.max(Math.min(this.floorMs, period), Math.floor(this.random() * period));
    return period;
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
