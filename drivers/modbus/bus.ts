import { sleep, type Clock, type TimerHandle } from '../../core/clock.js';
import { Breaker } from './breaker.js';
import { ModbusRequestError } from './errors.js';
import type { BusClient, Job } from './bus-client.js';
import type { Transport } from './transport.js';

export type { BusClient, IntervalGroup, Job } from './bus-client.js';

/** After this many timeouts in a row with no answer at all for 5 s, the connection is rebuilt. */
const STALE_TIMEOUTS = 3;
const STALE_MS = 5000;

/**
 * One physical bus: a serial port or a TCP host:port. It owns the transport, the single FIFO
 * queue (so two requests are never in flight on one line), the per-unit breakers, and the one
 * scheduler that turns every attached source's poll intervals into queued requests.
 */
export class Bus {
  private readonly queue: Job[] = [];
  /** Diagnostics waiting for the line (control socket `modbus.read`): run between polls. */
  private readonly turns: { run: () => Promise<void>; fail: (e: Error) => void }[] = [];
  private pumping = false;
  private readonly clients = new Set<BusClient>();
  readonly breakers = new Map<number, Breaker>();
  private timer: TimerHandle | undefined;
  private lastDoneAt = -Infinity;
  private lastAnswerAt: number;
  private timeoutsInRow = 0;
  private up = false;
  /** Last transport state; undefined until the first connect attempt has ended. */
  private lastDetail: string | undefined;
  requests = 0;
  answers = 0;

  constructor(readonly key: string, readonly transport: Transport, private readonly clock: Clock) {
    this.lastAnswerAt = clock.mono();
    transport.onState = (up, detail) => {
      this.up = up;
      this.lastDetail = detail;
      for (const c of this.clients) c.onBusState(up, detail);
      if (up) this.kick();
    };
  }

  get connected(): boolean {
    return this.transport.connected;
  }

  get queueDepth(): number {
    return this.queue.length;
  }

  /** Diagnostics waiting for their turn on the line. */
  get turnsWaiting(): number {
    return this.turns.length;
  }

  /**
   * Runs `fn` alone on the line, between two queued polls, after the inter-frame gap: a diagnostic
   * read by the control socket never overlaps the sources' requests. Rejects if the bus closes first.
   */
  exclusive<T>(fn: (t: Transport) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.turns.push({
        run: async () => {
          const wait = this.lastDoneAt + this.settings().interFrameDelay - this.clock.mono();
          if (wait > 0) await sleep(this.clock, wait);
          try {
            resolve(await fn(this.transport));
          } catch (e) {
            reject(e);
          } finally {
            this.lastDoneAt = this.clock.mono();
          }
        },
        fail: reject,
      });
      this.kick();
    });
  }

  /** Timeout, retries and inter-frame delay of the sources on this bus (the most patient), for diagnostics. */
  settings(): { timeout: number; retries: number; interFrameDelay: number } {
    const s = { timeout: 0, retries: 0, interFrameDelay: 0 };
    for (const c of this.clients) {
      s.timeout = Math.max(s.timeout, c.timeout);
      s.retries = Math.max(s.retries, c.retries);
      s.interFrameDelay = Math.max(s.interFrameDelay, c.interFrameDelay);
    }
    return s;
  }

  breaker(unit: number): Breaker {
    let b = this.breakers.get(unit);
    if (!b) this.breakers.set(unit, (b = new Breaker()));
    return b;
  }

  attach(c: BusClient): void {
    this.clients.add(c);
    const now = this.clock.mono();
    for (const g of c.groups) g.nextDue = now;
    if (this.clients.size === 1) this.transport.open();
    else if (this.lastDetail !== undefined) c.onBusState(this.up, this.lastDetail);
    this.arm();
  }

  /** Returns true when the last client left (the caller then closes the bus). */
  detach(c: BusClient): boolean {
    this.clients.delete(c);
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (this.queue[i].client === c) {
        this.queue[i].queued = false;
        this.queue.splice(i, 1);
      }
    }
    this.arm();
    return this.clients.size === 0;
  }

  async close(): Promise<void> {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.clients.clear();
    this.queue.length = 0;
    for (const t of this.turns.splice(0)) t.fail(new Error(`${this.key} closed (source stopped or reconfigured)`));
    await this.transport.close();
  }

  /** Schedules the next tick at the earliest due group of any client. */
  private arm(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    let next = Infinity;
    for (const c of this.clients) for (const g of c.groups) if (g.nextDue < next) next = g.nextDue;
    if (next === Infinity) return;
    this.timer = this.clock.setTimeout(this.tick, Math.max(0, next - this.clock.mono()));
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    // Groups due within a millisecond are one cycle, so coinciding intervals share requests.
    const now = this.clock.mono() + 1;
    for (const c of this.clients) {
      let mask = 0;
      for (const g of c.groups) {
        if (g.nextDue > now) continue;
        mask |= g.bit;
        g.nextDue += g.interval;
        // Slots missed while the process was stalled are skipped, not fired in a burst.
        while (g.nextDue <= now) {
          g.nextDue += g.interval;
          c.skippedSlots++;
        }
      }
      if (mask === 0) continue;
      for (const job of c.planFor(mask)) {
        // Still waiting from the previous cycle: the bus is saturated, do not pile up.
        if (job.queued) {
          c.overruns++;
          continue;
        }
        job.queued = true;
        this.queue.push(job);
      }
    }
    this.arm();
    this.kick();
  };

  private kick(): void {
    if (!this.pumping && (this.queue.length > 0 || this.turns.length > 0)) void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.queue.length > 0 || this.turns.length > 0) {
        // A waiting diagnostic goes next: it is one request an operator is watching for.
        const turn = this.turns.shift();
        if (turn) {
          await turn.run();
          continue;
        }
        const job = this.queue.shift()!;
        const br = this.breakers.get(job.unitId);
        if (br?.open && !job.deferred && this.queue.length > 0 && br.allows(this.clock.mono())) {
          // A probe of a silent unit may cost a full timeout: let the healthy requests
          // already waiting go first, once, so they keep their rate.
          job.deferred = true;
          this.queue.push(job);
          continue;
        }
        job.deferred = false;
        job.queued = false;
        try {
          await this.run(job);
        } catch (e) {
          // A bug in a decoder or a sink must not stop the bus for every other source.
          job.attempt = 0;
          job.client.onFailure(job, new ModbusRequestError('frame', `internal error: ${(e as Error).message}`), 1);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private async run(job: Job): Promise<void> {
    const c = job.client;
    if (!this.transport.connected) {
      job.attempt = 0;
      return; // the source already reports the bus as down
    }
    const br = this.breaker(job.unitId);
    if (!br.allows(this.clock.mono())) {
      job.attempt = 0;
      return; // unit backed off: spend no bus time on it
    }
    const probing = br.open;
    const attempts = probing ? 1 : 1 + c.retries;
    let lastErr: ModbusRequestError | undefined;
    for (let a = 1 + (job.attempt ?? 0); a <= attempts; a++) {
      if (a > 1 && a - 1 > (job.attempt ?? 0) && this.queue.length > 0) {
        // Retry after the requests already waiting: a slow unit should not hold the others up.
        job.attempt = a - 1;
        job.queued = true;
        this.queue.push(job);
        return;
      }
      if (c.interFrameDelay > 0) {
        const wait = this.lastDoneAt + c.interFrameDelay - this.clock.mono();
        if (wait > 0) await sleep(this.clock, wait);
      }
      this.requests++;
      try {
        const n = await this.transport.read(job.unitId, job.fc, job.address, job.quantity, c.timeout);
        job.attempt = 0;
        this.lastDoneAt = this.clock.mono();
        this.answered(br, c);
        c.onData(job, this.transport.data.subarray(0, n), this.clock.now());
        return;
      } catch (e) {
        this.lastDoneAt = this.clock.mono();
        const err = e instanceof ModbusRequestError ? e : new ModbusRequestError('frame', (e as Error).message);
        lastErr = err;
        if (err.kind === 'exception' || err.kind === 'disconnected') job.attempt = 0;
        if (err.kind === 'exception' && (err.code === 10 || err.code === 11)) {
          // A gateway answering for a unit behind it that is silent: a dead unit, back it off
          // like a timeout (the gateway's own timeout would otherwise hold the bus every poll).
          this.answered(undefined, c);
          const wasOpen = br.open;
          c.onFailure(job, err, a, br.failure(this.clock.mono()));
          if (!wasOpen) for (const cl of this.clients) cl.onUnitState();
          return;
        }
        if (err.kind === 'exception') {
          // The device answered: it is alive, the request is what it refuses.
          this.answered(br, c);
          c.onFailure(job, err, a);
          return;
        }
        if (err.kind === 'disconnected') return;
      }
    }
    // Out of attempts: back the unit off so the rest of the bus keeps its rate.
    job.attempt = 0;
    const now = this.clock.mono();
    const wasOpen = br.open;
    const wait = br.failure(now);
    c.onFailure(job, lastErr!, attempts, wait);
    if (!wasOpen) for (const cl of this.clients) cl.onUnitState();
    if (lastErr!.kind === 'timeout' && ++this.timeoutsInRow >= STALE_TIMEOUTS && now - this.lastAnswerAt > STALE_MS) {
      // Nothing on this bus has answered for a while: the fd or socket may be stale
      // (adapter re-enumerated, half-open TCP). Rebuilding it is cheap and self-healing.
      this.timeoutsInRow = 0;
      this.lastAnswerAt = now;
      this.transport.reset(`no answer from any unit for ${Math.round(STALE_MS / 1000)} s`);
    }
  }

  private answered(br: Breaker | undefined, c: BusClient): void {
    this.answers++;
    this.timeoutsInRow = 0;
    this.lastAnswerAt = this.clock.mono();
    if (br?.open) {
      br.success();
      for (const cl of this.clients) cl.onUnitState();
    }
    void c;
  }
}
