import { systemClock, type Clock, type TimerHandle } from '../../core/clock.js';
import { ModbusRequestError } from './errors.js';

/**
 * One connection to a bus (a serial port or a TCP host:port). It carries one request at a
 * time: the Bus above it guarantees that, and the transport refuses overlap as a safety net.
 */
export interface Transport {
  readonly label: string;
  readonly connected: boolean;
  /** Starts connecting; reconnects by itself after a drop until close(). */
  open(): void;
  close(): Promise<void>;
  /** Drops and re-establishes the connection (after a run of timeouts: a stale fd or half-open socket). */
  reset(reason: string): void;
  /**
   * Sends a read request. Resolves with the number of data bytes, which are then in `data`
   * from offset 0 until the next request (read them synchronously).
   */
  read(unit: number, fc: number, address: number, quantity: number, timeoutMs: number): Promise<number>;
  /**
   * Sends a write (FC 5, 6, 15 or 16; `body` is the PDU after the function code, see encode.ts)
   * and resolves when the device echoes it. Exceptions reject as for reads.
   */
  write?(unit: number, fc: number, body: Buffer, timeoutMs: number): Promise<void>;
  /** The response data of the last successful read (reused buffer). */
  readonly data: Buffer;
  /** Connection state changes, for the sources' state. */
  onState?: (up: boolean, detail: string) => void;
  /** Frames dropped because they did not match the request in flight (late, foreign, corrupt). */
  readonly staleFrames: number;
}

/** Reconnect delays: quick first retries so a re-plugged adapter is back within seconds. */
export const RECONNECT_MIN_MS = 200;
export const RECONNECT_MAX_MS = 2000;

export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** attempt);
  return base / 2 + random() * (base / 2);
}

/** What both transports take besides their address: injected so bus logic is unit-testable. */
export interface TransportOptions {
  /** Reconnect after a drop (the daemon); false for a one-off CLI read. Default true. */
  reconnect?: boolean;
  /** Every timer (request timeout, reconnect, line guard) runs on this clock. */
  clock?: Clock;
  /** Jitter of the reconnect delay (tests pin it). */
  random?: () => number;
}

/** Expected data byte count of a read response. */
export function expectedBytes(fc: number, quantity: number): number {
  return fc <= 2 ? Math.ceil(quantity / 8) : quantity * 2;
}

/** Bookkeeping of the one request in flight, shared by both transports. */
export class Pending {
  resolve!: (n: number) => void;
  reject!: (e: ModbusRequestError) => void;
  timer: TimerHandle | undefined;
  promise!: Promise<number>;
  /** Writes (FC 5/6/15/16): the answer echoes these 4 bytes (address + value or quantity) instead of carrying data. */
  echo: Buffer | undefined;
  constructor(readonly unit: number, readonly fc: number, readonly byteCount: number, readonly tid: number) {
    this.promise = new Promise<number>((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    // It may be rejected (port closed) before read() hands it out: never an unhandled rejection.
    this.promise.catch(() => {});
  }
}

export function disconnectedError(label: string): ModbusRequestError {
  return new ModbusRequestError('disconnected', `${label} not connected`);
}

/**
 * What both transports share: connection state, open/connectOnce, the reconnect attempt counter
 * and the one pending request. Subclasses supply connect() (serial port or socket).
 */
export abstract class TransportBase {
  abstract readonly label: string;
  staleFrames = 0;
  onState?: (up: boolean, detail: string) => void;
  protected isConnected = false;
  protected closed = true;
  protected attempt = 0;
  protected retryTimer: TimerHandle | undefined;
  protected pending: Pending | undefined;
  protected readonly clock: Clock;

  constructor(protected readonly opts: TransportOptions = {}) {
    this.clock = opts.clock ?? systemClock;
  }

  get connected(): boolean {
    return this.isConnected;
  }

  open(): void {
    if (!this.closed) return;
    this.closed = false;
    this.connect();
  }

  /** Connects once; resolves when connected, rejects on failure (CLI use, no reconnect). */
  connectOnce(): Promise<void> {
    return new Promise((resolve, reject) => {
      const prev = this.onState;
      this.onState = (up, detail) => {
        this.onState = prev;
        prev?.(up, detail);
        if (up) resolve();
        else reject(new Error(detail));
      };
      this.open();
    });
  }

  protected abstract connect(): void;

  /** Schedules the next connect attempt (unless closed or one-off). */
  protected scheduleRetry(): void {
    if (this.closed) return;
    if (this.opts.reconnect === false) {
      this.closed = true;
      return;
    }
    this.retryTimer = this.clock.setTimeout(() => this.connect(), reconnectDelay(this.attempt++, this.opts.random));
  }

  /** Arms the timeout of the request in flight: on expiry it is rejected, then `onExpiry` runs. */
  protected armTimeout(p: Pending, timeoutMs: number, onExpiry?: () => void): void {
    p.timer = this.clock.setTimeout(() => {
      if (this.pending !== p) return;
      this.pending = undefined;
      onExpiry?.();
      p.reject(new ModbusRequestError('timeout', `no answer within ${timeoutMs} ms`));
    }, timeoutMs);
  }

  protected failPending(err: ModbusRequestError): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    this.clock.clearTimeout(p.timer);
    p.reject(err);
  }
}
