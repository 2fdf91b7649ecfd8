import net from 'node:net';
import { ModbusRequestError, exceptionError } from './errors.js';
import { Pending, TransportBase, disconnectedError, expectedBytes, type Transport, type TransportOptions } from './transport.js';

const MAX_ADU = 260;

/** The part of a net.Socket the transport uses (a fake one in unit tests). */
export interface SocketLike {
  setNoDelay(noDelay: boolean): unknown;
  setKeepAlive(enable: boolean, initialDelayMs: number): unknown;
  write(data: Buffer): unknown;
  destroy(err?: Error): unknown;
  once(event: 'connect', fn: () => void): unknown;
  once(event: 'close', fn: () => void): unknown;
  on(event: 'data', fn: (chunk: Buffer) => void): unknown;
  on(event: 'error', fn: (err: Error) => void): unknown;
}
/** How a socket is made and connected: net.connect, or a fake in unit tests. */
export type SocketFactory = (o: { host: string; port: number }) => SocketLike;
const realSocket: SocketFactory = (o) => net.connect(o);

export interface TcpOptions extends TransportOptions {
  connectTimeoutMs?: number;
  connect?: SocketFactory;
}

/**
 * Modbus TCP client on one socket. Every request gets a fresh transaction id and only the
 * response carrying that id completes it: a response arriving after its request timed out
 * is counted and dropped, so ids never get out of step (the classic "transaction id does not
 * match" trap of clients that read the next frame blindly).
 */
export class TcpTransport extends TransportBase implements Transport {
  readonly label: string;
  readonly data = Buffer.alloc(MAX_ADU);
  private socket: SocketLike | undefined;
  private rx = Buffer.alloc(4096);
  private rxLen = 0;
  private tid = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
    protected override readonly opts: TcpOptions = {},
  ) {
    super(opts);
    this.label = `${host}:${port}`;
  }

  protected connect(): void {
    if (this.closed) return;
    const s = (this.opts.connect ?? realSocket)({ host: this.host, port: this.port });
    this.socket = s;
    s.setNoDelay(true);
    s.setKeepAlive(true, 10_000);
    const connectMs = this.opts.connectTimeoutMs ?? 3000;
    const connectTimer = this.clock.setTimeout(() => s.destroy(new Error(`connect timeout after ${connectMs} ms`)), connectMs);
    let lastError: Error | undefined;
    s.once('connect', () => {
      this.clock.clearTimeout(connectTimer);
      this.isConnected = true;
      this.attempt = 0;
      this.rxLen = 0;
      this.onState?.(true, `connected to ${this.label}`);
    });
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    s.on('error', (err) => {
      lastError = err;
    });
    s.once('close', () => {
      this.clock.clearTimeout(connectTimer);
      const err = lastError;
      if (this.socket !== s) return;
      this.socket = undefined;
      const was = this.isConnected;
      this.isConnected = false;
      this.failPending(disconnectedError(this.label));
      if (this.closed) return;
      const detail = was ? `connection to ${this.label} lost${err ? `: ${err.message}` : ''}` : `cannot connect to ${this.label}: ${err?.message ?? 'closed'}`;
      this.onState?.(false, detail);
      this.scheduleRetry();
    });
  }

  reset(reason: string): void {
    const s = this.socket;
    if (!s) return;
    s.destroy(new Error(reason));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clock.clearTimeout(this.retryTimer);
    const s = this.socket;
    this.socket = undefined;
    this.isConnected = false;
    this.failPending(disconnectedError(this.label));
    if (s) {
      await new Promise<void>((r) => {
        s.once('close', () => r());
        s.destroy();
      });
    }
  }

  read(unit: number, fc: number, address: number, quantity: number, timeoutMs: number): Promise<number> {
    const s = this.socket;
    if (!s || !this.isConnected) return Promise.reject(disconnectedError(this.label));
    if (this.pending) return Promise.reject(new ModbusRequestError('frame', 'request already in flight (bus queue bypassed)'));
    this.tid = (this.tid + 1) & 0xffff;
    const p = new Pending(unit, fc, expectedBytes(fc, quantity), this.tid);
    this.pending = p;
    const req = Buffer.allocUnsafe(12);
    req.writeUInt16BE(this.tid, 0);
    req.writeUInt16BE(0, 2);
    req.writeUInt16BE(6, 4);
    req[6] = unit;
    req[7] = fc;
    req.writeUInt16BE(address, 8);
    req.writeUInt16BE(quantity, 10);
    this.armTimeout(p, timeoutMs);
    s.write(req);
    return p.promise;
  }

  /** A write (FC 5/6/15/16), answered by an echo of address and value/quantity. */
  async write(unit: number, fc: number, body: Buffer, timeoutMs: number): Promise<void> {
    const s = this.socket;
    if (!s || !this.isConnected) throw disconnectedError(this.label);
    if (this.pending) throw new ModbusRequestError('frame', 'request already in flight (bus queue bypassed)');
    this.tid = (this.tid + 1) & 0xffff;
    const p = new Pending(unit, fc, 0, this.tid);
    p.echo = body.subarray(0, 4);
    this.pending = p;
    const req = Buffer.allocUnsafe(8 + body.length);
    req.writeUInt16BE(this.tid, 0);
    req.writeUInt16BE(0, 2);
    req.writeUInt16BE(2 + body.length, 4);
    req[6] = unit;
    req[7] = fc;
    body.copy(req, 8);
    this.armTimeout(p, timeoutMs);
    s.write(req);
    await p.promise;
  }

  private onData(chunk: Buffer): void {
    if (this.rxLen + chunk.length > this.rx.length) {
      // More unframed bytes than any valid stream could hold: resynchronise by reconnecting.
      this.rxLen = 0;
      this.staleFrames++;
      this.reset('receive buffer overflow (peer is not speaking Modbus TCP)');
      return;
    }
    chunk.copy(this.rx, this.rxLen);
    this.rxLen += chunk.length;
    let off = 0;
    while (this.rxLen - off >= 7) {
      const len = this.rx.readUInt16BE(off + 4);
      if (len < 2 || len > 254 || this.rx.readUInt16BE(off + 2) !== 0) {
        this.rxLen = 0;
        this.staleFrames++;
        this.reset('malformed MBAP header');
        return;
      }
      const frameLen = 6 + len;
      if (this.rxLen - off < frameLen) break;
      this.onFrame(off, frameLen);
      off += frameLen;
    }
    if (off > 0) {
      this.rx.copyWithin(0, off, this.rxLen);
      this.rxLen -= off;
    }
  }

  private onFrame(off: number, len: number): void {
    const p = this.pending;
    const rx = this.rx;
    if (!p || rx.readUInt16BE(off) !== p.tid) {
      this.staleFrames++; // late answer to a request that already timed out
      return;
    }
    if (rx[off + 6] !== p.unit) {
      // Our transaction id but another unit's answer (a gateway routing to the wrong device, a
      // device ignoring the unit id): its data would be stored under the wrong unit's points.
      this.staleFrames++;
      this.finish(p);
      p.reject(new ModbusRequestError('frame', `answer carries unit id ${rx[off + 6]}, expected ${p.unit} (gateway routing to the wrong device?)`));
      return;
    }
    const fc = rx[off + 7];
    if (fc === (p.fc | 0x80) && len >= 9) {
      this.finish(p);
      p.reject(exceptionError(rx[off + 8]));
      return;
    }
    if (p.echo) {
      this.finish(p);
      if (fc === p.fc && len === 12 && rx.compare(p.echo, 0, 4, off + 8, off + 12) === 0) p.resolve(0);
      else p.reject(new ModbusRequestError('frame', `unexpected write answer: function ${fc}, ${rx.subarray(off + 8, off + len).toString('hex')} (expected function ${p.fc}, echo ${p.echo.toString('hex')})`));
      return;
    }
    const n = rx[off + 8];
    if (fc !== p.fc || n !== p.byteCount || len !== 9 + n) {
      this.finish(p);
      p.reject(new ModbusRequestError('frame', `unexpected response: function ${fc}, ${n} data bytes (expected function ${p.fc}, ${p.byteCount} bytes)`));
      return;
    }
    rx.copy(this.data, 0, off + 9, off + 9 + n);
    this.finish(p);
    p.resolve(n);
  }

  private finish(p: Pending): void {
    this.clock.clearTimeout(p.timer);
    this.pending = undefined;
  }
}
