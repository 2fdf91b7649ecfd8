import { isUtf8 } from 'node:buffer';
import { loadSerialPort, serialPortClass, realPort, type PortFactory, type PortLike } from '../serialport-loader.js';
import type { Driver, SourceContext } from '../types.js';
import type { Value } from '../../core/reading.js';
import type { TimerHandle } from '../../core/clock.js';
import { Backoff } from '../../core/backoff.js';
import { Periodic } from '../../core/periodic.js';
import { LineFramer } from './framer.js';
import type { LineParser } from './parsers/index.js';
import type { SerialConfig } from './schema.js';
import { fanOut, serialTaps, type LineTap, type Tappable } from './taps.js';

export type { LineTap } from './taps.js';

/** Sensor lines are nearly always ASCII: check in place before paying for a Buffer view. */
function isAscii(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] > 0x7f) return false;
  return true;
}

export type { PortLike, PortFactory } from '../serialport-loader.js';

/**
 * A line-oriented serial sensor: frames bytes into lines, parses each into points, and keeps
 * the port open across unplugs by reopening with backoff. Nothing a device sends is fatal:
 * every rejected line is counted via ctx.error with a stable kind:
 * `overlong`, `encoding` (invalid UTF-8), `partial` (first line after open), `no-match`,
 * `parse`, `checksum`, `timeout` (query mode), `open`, `disconnected`, `io`.
 */
export class SerialSource implements Driver, Tappable {
  private port: PortLike | undefined;
  private readonly framer: LineFramer;
  private readonly backoff: Backoff;
  private closed = true;
  /** Bumped by close(): callbacks of a port from before a close/open cycle are ignored. */
  private generation = 0;
  private retryTimer: TimerHandle | undefined;
  private query: Periodic | undefined;
  private queryTimer: TimerHandle | undefined;
  private readonly querySend: Buffer | undefined;
  /** The first line after an open may be the tail of one sent before we listened. */
  private firstLine = true;
  /** Timestamp shared by all points of the line being parsed. */
  private lineTs = 0;
  // Diagnostics.
  private lines = 0;
  private bytesIn = 0;
  private reads = 0;
  private opens = 0;
  /** Monitors watching the lines (usually none: then `tap` is undefined and costs a check per line). */
  private taps: LineTap[] = [];
  private tap: LineTap | undefined;

  constructor(
    private readonly cfg: SerialConfig,
    private readonly ctx: SourceContext,
    private readonly parser: LineParser,
    tap?: LineTap,
    private readonly makePort: PortFactory = realPort,
  ) {
    if (tap) this.addTap(tap);
    this.framer = new LineFramer(Buffer.from(cfg.delimiter, 'utf8'), cfg.maxLineLength, {
      line: this.onLine,
      overlong: (bytes) => {
        this.firstLine = false;
        this.lineError('overlong', `line of ${bytes}+ bytes exceeds maxLineLength ${this.cfg.maxLineLength}: dropped up to the next delimiter ${JSON.stringify(this.cfg.delimiter)} (is the delimiter right?)`);
      },
    });
    this.backoff = new Backoff(cfg.reconnectMin, cfg.reconnectMax, Math.random, Math.min(100, cfg.reconnectMin));
    this.querySend = cfg.query ? Buffer.from(cfg.query.send, 'utf8') : undefined;
  }

  get sourceId(): string {
    return this.ctx.sourceId;
  }

  get portPath(): string {
    return this.cfg.port;
  }

  /** Watch the lines this source reads; returns the function that stops watching. */
  addTap(t: LineTap): () => void {
    this.taps = [...this.taps, t];
    this.tap = fanOut(this.taps);
    return () => {
      this.taps = this.taps.filter((x) => x !== t);
      this.tap = fanOut(this.taps);
    };
  }

  async open(): Promise<void> {
    if (!this.closed) return;
    this.closed = false;
    serialTaps(this.ctx.host).add(this);
    this.ctx.setState('starting', this.cfg.port);
    this.connect();
    if (this.cfg.query) this.query = new Periodic(this.cfg.query.every, this.ask, this.ctx.clock).start(0);
  }

  async close(): Promise<void> {
    if (!this.closed) {
      serialTaps(this.ctx.host).remove(this);
      this.tap?.end?.();
    }
    this.closed = true;
    this.generation++;
    this.query?.stop();
    this.query = undefined;
    this.ctx.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.endQuery();
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  diagnostics(): Record<string, unknown> {
    return { port: this.cfg.port, open: this.port?.isOpen === true, lines: this.lines, bytesIn: this.bytesIn, reads: this.reads, opens: this.opens, pendingBytes: this.framer.pending };
  }

  private connect(): void {
    this.retryTimer = undefined;
    if (this.closed) return;
    if (this.makePort === realPort && !serialPortClass()) {
      loadSerialPort().then(() => this.connect(), (e: Error) => this.ctx.error('open', `cannot load serialport: ${e.message}`));
      return;
    }
    const { port: path, baudRate, dataBits, parity, stopBits } = this.cfg;
    let port: PortLike;
    try {
      port = this.makePort({ path, baudRate, dataBits, parity, stopBits, autoOpen: false });
    } catch (e) {
      this.retry('open', `cannot open ${path}: ${(e as Error).message}`);
      return;
    }
    port.on('error', (e) => {
      if (this.port === port) this.ctx.error('io', `${path}: ${e.message}`);
    });
    port.on('close', (e?: Error) => {
      if (this.port !== port) return;
      this.port = undefined;
      this.endQuery();
      this.retry('disconnected', `${path} closed${e ? `: ${e.message}` : ''}`);
    });
    port.on('data', (chunk: Buffer) => {
      this.bytesIn += chunk.length;
      this.reads++;
      this.framer.push(chunk);
    });
    const gen = this.generation;
    port.open((err) => {
      if (this.closed || gen !== this.generation) {
        if (!err) port.close();
        return;
      }
      if (err) {
        // serialport says "Error: No such file or directory, cannot open /dev/x": the path is named once, up front.
        this.retry('open', `cannot open ${path}: ${err.message.replace(/^Error:? /, '').replace(/, cannot open \S+$/, '')}`);
        return;
      }
      this.port = port;
      this.opens++;
      this.backoff.reset();
      this.framer.reset();
      this.firstLine = true;
      this.ctx.setState('ok', path);
    });
  }

  private retry(kind: string, message: string): void {
    if (this.closed || this.retryTimer) return;
    const delay = this.backoff.next();
    this.ctx.error(kind, message);
    this.ctx.setState('backing-off', `${message}; retrying`);
    this.retryTimer = this.ctx.clock.setTimeout(() => this.connect(), delay);
  }

  /** Query mode: ask, then expect a line within the timeout. */
  private readonly ask = (): void => {
    const port = this.port;
    if (!port?.isOpen || !this.querySend || !this.cfg.query) return;
    this.endQuery();
    port.write(this.querySend, (err) => {
      if (err && this.port === port) this.ctx.error('io', `write to ${this.cfg.port} failed: ${err.message}`);
    });
    const { timeout, send } = this.cfg.query;
    this.queryTimer = this.ctx.clock.setTimeout(() => {
      this.queryTimer = undefined;
      this.ctx.error('timeout', `no reply to ${JSON.stringify(send)} within ${timeout} ms`);
    }, timeout);
  };

  private endQuery(): void {
    this.ctx.clock.clearTimeout(this.queryTimer);
    this.queryTimer = undefined;
  }

  private readonly emitPoint = (point: string, value: Value): void => {
    this.tap?.point?.(point, value);
    this.ctx.emit(point, value, undefined, this.lineTs);
  };

  /** A rejected line: counted, and shown to monitors. */
  private lineError(kind: string, message: string): void {
    this.tap?.error?.(kind, message);
    this.ctx.error(kind, message);
  }

  private readonly onLine = (buf: Buffer, start: number, end: number): void => {
    if (end === start) return; // blank lines carry nothing; not worth an error
    this.lines++;
    const first = this.firstLine;
    this.firstLine = false;
    this.tap?.line(buf.subarray(start, end));
    this.endQuery();
    if (!isAscii(buf, start, end) && !isUtf8(buf.subarray(start, end))) {
      this.lineError(first ? 'partial' : 'encoding', `invalid UTF-8 in line: ${buf.subarray(start, Math.min(end, start + 32)).toString('hex')}${end - start > 32 ? '…' : ''}`);
      return;
    }
    const text = buf.toString('utf8', start, end);
    this.lineTs = this.ctx.clock.now();
    const fail = this.parser.parse(text, this.emitPoint);
    if (fail) this.lineError(first ? 'partial' : fail.kind, first ? `first line after open (likely cut off): ${fail.message}` : fail.message);
  };
}
