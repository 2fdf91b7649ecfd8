/**
 * A frozen link (TCP up, broker silent: a NAT that dropped the flow, a wedged broker) is noticed
 * by MQTT keepalive only at 1.5 x keepalive (45 s at the default 30 s). While batches wait for
 * their PUBACK we know sooner: a broker that acknowledged nothing for `ackTimeout` although
 * something was outstanding is not there. Then the uplink ends the connection and reconnects;
 * the unacknowledged batches are still in the outbox and go out again (same seq).
 *
 * O(1) per publish: one timestamp, "since when have we been waiting without progress", reset
 * whenever a PUBACK arrives or a publish starts from an empty window. Monotonic clock.
 */
export class PubackWatchdog {
  private since = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly timeoutMs: number,
    private readonly outstanding: () => number,
    private readonly onOverdue: (waitedMs: number) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A publish is about to go out while `before` others wait. */
  sent(before: number): void {
    if (before === 0) this.since = this.now();
  }

  acked(): void {
    this.since = this.now();
  }

  /** Checks at a quarter of the timeout (at most once a second): detection within 1.25 x timeout. */
  start(): void {
    this.stop();
    this.since = this.now();
    this.timer = setInterval(() => this.check(), Math.min(1000, Math.max(50, this.timeoutMs / 4)));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** True (and onOverdue called) when something waits for a PUBACK longer than the timeout. */
  check(): boolean {
    if (this.outstanding() === 0) return false;
    const waited = this.now() - this.since;
    if (waited <= this.timeoutMs) return false;
    this.stop();
    this.onOverdue(waited);
    return true;
  }
}
