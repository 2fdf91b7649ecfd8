import { EventEmitter } from 'node:events';
import type { SocketLike } from '../../../drivers/modbus/tcp-transport.js';

/**
 * A socket the test plays the peer of: connect, answer, drop, all on command and without a
 * network, for TcpTransport's SocketFactory. `answer` builds a Modbus TCP response to the last
 * request, `onRequest` answers automatically.
 */
export class FakeSocket extends EventEmitter implements SocketLike {
  readonly written: Buffer[] = [];
  destroyed = false;
  onRequest?: (req: Buffer, s: FakeSocket) => void;

  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  write(data: Buffer): boolean {
    this.written.push(Buffer.from(data));
    this.onRequest?.(data, this);
    return true;
  }
  destroy(err?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    queueMicrotask(() => {
      if (err) this.emit('error', err);
      this.emit('close');
    });
    return this;
  }
  /** The peer accepts the connection. */
  accept(): void {
    this.emit('connect');
  }
  /** Bytes from the peer. */
  send(b: Buffer): void {
    this.emit('data', b);
  }
}

/** A register-read response to `req` (FC 3/4) carrying `values`, with the unit id `unit` (default: the request's). */
export function registersResponse(req: Buffer, values: number[], unit = req[6]): Buffer {
  const res = Buffer.alloc(9 + values.length * 2);
  req.copy(res, 0, 0, 2);
  res.writeUInt16BE(3 + values.length * 2, 4);
  res[6] = unit;
  res[7] = req[7];
  res[8] = values.length * 2;
  values.forEach((v, i) => res.writeUInt16BE(v, 9 + i * 2));
  return res;
}

/** A SocketFactory that records every socket it makes (one per connect attempt). */
export function socketFactory(setup: (s: FakeSocket) => void = () => {}) {
  const sockets: FakeSocket[] = [];
  const connect = () => {
    const s = new FakeSocket();
    sockets.push(s);
    setup(s);
    return s;
  };
  return { sockets, connect };
}
