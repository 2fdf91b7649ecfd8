import { loadSerialPort, serialPortClass, realPort, type PortFactory, type PortLike } from '../serialport-loader.js';
import { sleep } from '../../core/clock.js';
import { crc16 } from './crc.js';
import { ModbusRequestError, exceptionError } from './errors.js';
import { Pending, TransportBase, disconnectedError, expectedBytes, type Transport, type TransportOptions } from './transport.js';

export interface SerialSettings {
  path: string;
  baudRate: number;
  parity: 'none' | 'even' | 'odd';
  dataBits: 7 | 8;
  stopBits: 1 | 2;
}

/**
 * After a timeout the line is held for min(timeout, this) before the next request: a slave that
 * answers slightly too late (the usual case) then answers into the void, not into the next request.
 */
export const LATE_GUARD_MAX_MS = 200;

/** Character time in ms (start + data + parity + stop bits). */
export function charTimeMs(s: Pick<SerialSettings, 'baudRate' | 'parity' | 'dataBits' | 'stopBits'>): number {
  return ((1 + s.dataBits + (s.parity === 'none' ? 0 : 1) + s.stopBits) * 1000) / s.baudRate;
}

/**
 * Modbus RTU master on one serial port. RTU frames carry no transaction id, so a late answer
 * can only be told apart by its content and timing. After a timeout the port holds the line for
 * a late-answer window and until it falls silent, and discards whatever arrived meanwhile; every
 * frame must match the unit id, function code, byte count and CRC of the request in flight,
 * else it is dropped byte by byte until a valid frame lines up.
 */
export class RtuTransport extends TransportBase implements Transport {
  readonly label: string;
  readonly data = Buffer.alloc(256);
  private port: PortLike | undefined;
  private rx = Buffer.alloc(1024);
  private rxLen = 0;
  /** Set after a timeout or garbage: the next send waits for a silent line first. */
  private dirty = false;
  private lastRxAt = 0;
  /** After a timeout: no send before this (monotonic ms), so a slow slave's late frame lands while nobody waits. */
  private quietUntil = 0;
  /** Unit whose request timed out: only its late frame could pass for an answer (same unit id). */
  private lateUnit = -1;
  private readonly silenceMs: number;

  constructor(private readonly s: SerialSettings, protected override readonly opts: TransportOptions & { makePort?: PortFactory } = {}) {
    super(opts);
    this.label = s.path;
    // Long enough for a slow slave's late frame to finish arriving, short enough not to starve the bus.
    this.silenceMs = Math.max(20, 10 * charTimeMs(s));
  }

  protected connect(): void {
    if (this.closed) return;
    const makePort = this.opts.makePort ?? realPort;
    if (makePort === realPort && !serialPortClass()) {
      loadSerialPort().then(() => this.connect(), (e: Error) => this.onState?.(false, `cannot load serialport: ${e.message}`));
      return;
    }
    const port = makePort({
      path: this.s.path,
      baudRate: this.s.baudRate,
      parity: this.s.parity,
      dataBits: this.s.dataBits,
      stopBits: this.s.stopBits,
      autoOpen: false,
    });
    this.port = port;
    port.on('data', (chunk: Buffer) => this.onData(chunk));
    port.on('error', () => { /* reported through open/close */ });
    port.open((err) => {
      if (this.port !== port) return;
      if (err) {
        this.port = undefined;
        this.onState?.(false, `cannot open ${this.label}: ${err.message}`);
        this.scheduleRetry();
        return;
      }
      this.isConnected = true;
      this.attempt = 0;
      this.rxLen = 0;
      this.onState?.(true, `opened ${this.label}`);
      port.on('close', (cerr?: Error) => {
        if (this.port !== port) return;
        this.port = undefined;
        this.isConnected = false;
        this.failPending(disconnectedError(this.label));
        if (this.closed) return;
        this.onState?.(false, `${this.label} closed${cerr ? `: ${cerr.message}` : ''}`);
        this.scheduleRetry();
      });
    });
  }

  reset(reason: string): void {
    const port = this.port;
    if (!port || !this.isConnected) return;
    this.port = undefined;
    this.isConnected = false;
    this.failPending(disconnectedError(this.label));
    this.onState?.(false, `${this.label} reopened: ${reason}`);
    port.close(() => this.scheduleRetry());
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clock.clearTimeout(this.retryTimer);
    const port = this.port;
    this.port = undefined;
    this.isConnected = false;
    this.failPending(disconnectedError(this.label));
    if (port?.isOpen) await new Promise<void>((r) => port.close(() => r()));
  }

  async read(unit: number, fc: number, address: number, quantity: number, timeoutMs: number): Promise<number> {
    if (!this.port || !this.isConnected) throw disconnectedError(this.label);
    if (this.pending) throw new ModbusRequestError('frame', 'request already in flight (bus queue bypassed)');
    const req = Buffer.allocUnsafe(8);
    req[0] = unit;
    req[1] = fc;
    req.writeUInt16BE(address, 2);
    req.writeUInt16BE(quantity, 4);
    req.writeUInt16LE(crc16(req, 0, 6), 6);
    const p = new Pending(unit, fc, expectedBytes(fc, quantity), 0);
    await this.send(p, req, timeoutMs);
    return p.promise;
  }

  /** A write (FC 5/6/15/16): the same line discipline as read(), answered by an echo. */
  async write(unit: number, fc: number, body: Buffer, timeoutMs: number): Promise<void> {
    if (!this.port || !this.isConnected) throw disconnectedError(this.label);
    if (this.pending) throw new ModbusRequestError('frame', 'request already in flight (bus queue bypassed)');
    const req = Buffer.allocUnsafe(4 + body.length);
    req[0] = unit;
    req[1] = fc;
    body.copy(req, 2);
    req.writeUInt16LE(crc16(req, 0, 2 + body.length), 2 + body.length);
    const p = new Pending(unit, fc, 0, 0);
    p.echo = body.subarray(0, 4);
    await this.send(p, req, timeoutMs);
    await p.promise;
  }

  /**
   * Puts one request on the line: waits out a late answer to an earlier timed-out request, drops
   * whatever arrived before (it is not this request's answer), arms the timeout, writes. After a
   * timeout the line stays "dirty" until it has been quiet, so a late reply is never taken for the
   * next request's.
   */
  private async send(p: Pending, req: Buffer, timeoutMs: number): Promise<void> {
    const unit = req[0]!;
    this.pending = p;
    if (this.dirty) await this.waitForSilence(unit);
    const port = this.port;
    if (!port || !this.isConnected || this.pending !== p) {
      this.pending = undefined;
      throw disconnectedError(this.label);
    }
    this.rxLen = 0;
    this.armTimeout(p, timeoutMs, () => {
      this.dirty = true;
      this.quietUntil = this.clock.mono() + Math.min(timeoutMs, LATE_GUARD_MAX_MS);
      this.lateUnit = unit;
    });
    port.write(req);
  }

  /**
   * Waits out the late-answer window of a timeout (same unit only), and until no byte has arrived for silenceMs
   * (bounded, so a chattering line cannot stall the bus).
   */
  private async waitForSilence(unit: number): Promise<void> {
    const deadline = this.clock.mono() + 1000 + LATE_GUARD_MAX_MS;
    // Another unit's late frame carries another unit id and cannot be mistaken: no window then.
    const guard = unit === this.lateUnit ? this.quietUntil : 0;
    for (;;) {
      const now = this.clock.mono();
      const wait = Math.max(guard - now, this.silenceMs - (now - this.lastRxAt));
      if (wait <= 0 || now >= deadline) break;
      await sleep(this.clock, wait);
    }
    this.dirty = false;
  }

  private onData(chunk: Buffer): void {
    this.lastRxAt = this.clock.mono();
    const p = this.pending;
    if (!p || p.timer === undefined) {
      // Nobody is waiting (late frame after a timeout, or line noise): drop it.
      this.staleFrames++;
      this.dirty = true;
      return;
    }
    const room = this.rx.length - this.rxLen;
    chunk.copy(this.rx, this.rxLen, 0, Math.min(room, chunk.length));
    this.rxLen += Math.min(room, chunk.length);
    this.parse(p);
  }

  private parse(p: Pending): void {
    const rx = this.rx;
    let off = 0;
    while (this.rxLen - off >= 2) {
      const fc = rx[off + 1];
      let len: number;
      if (rx[off] !== p.unit) len = -1;
      else if (fc === (p.fc | 0x80)) len = 5;
      else if (fc === p.fc && p.echo) len = 8;
      else if (fc === p.fc) {
        if (this.rxLen - off < 3) break;
        len = rx[off + 2] === p.byteCount ? 5 + p.byteCount : -1;
      } else len = -1;
      if (len > 0 && this.rxLen - off < len) break; // frame incomplete: wait for more bytes
      if (len > 0 && rx.readUInt16LE(off + len - 2) === crc16(rx, off, off + len - 2)) {
        this.clock.clearTimeout(p.timer);
        this.pending = undefined;
        if (fc & 0x80) p.reject(exceptionError(rx[off + 2]));
        else if (p.echo) {
          if (rx.compare(p.echo, 0, 4, off + 2, off + 6) === 0) p.resolve(0);
          else p.reject(new ModbusRequestError('frame', `write answer echoes ${rx.subarray(off + 2, off + 6).toString('hex')}, expected ${p.echo.toString('hex')}`));
        } else {
          rx.copy(this.data, 0, off + 3, off + 3 + p.byteCount);
          p.resolve(p.byteCount);
        }
        this.rxLen = 0;
        return;
      }
      // Not the answer we wait for (foreign unit, late frame, CRC error): slide by one byte.
      this.dirty = true;
      off++;
    }
    if (off > 0) {
      this.staleFrames++;
      rx.copyWithin(0, off, this.rxLen);
      this.rxLen -= off;
    }
  }
}
