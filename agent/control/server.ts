import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from '../../core/log.js';
import { ControlError } from '../../core/tool-errors.js';

/** Context of one request: stream events (monitors, progress) and learn when the client went away. */
export interface RequestContext {
  emit(event: unknown): void;
  readonly signal: AbortSignal;
}
export type Handler = (params: Record<string, unknown>, ctx: RequestContext) => unknown;

/** A failure the client shows as it is (no stack): bad params, unknown source, busy port. */
export { ControlError };

/** Longest request line accepted; requests are small JSON documents. */
const MAX_LINE = 1024 * 1024;

/**
 * The local control socket: newline-delimited JSON, one request per line, answered in any order
 * (match on `id`). Protocol: agent/control/README.md. Anyone may register a method, e.g. a driver
 * diagnostic that must use a port the daemon holds.
 */
export class ControlServer {
  private readonly methods = new Map<string, { help: string; handler: Handler }>();
  private server: net.Server | undefined;
  private readonly conns = new Set<net.Socket>();
  path = '';

  constructor(private readonly log: Logger) {
    this.register('methods', 'list the methods this daemon answers', () =>
      [...this.methods].map(([name, m]) => ({ name, help: m.help })));
    this.register('ping', 'liveness check', () => ({ pong: true, pid: process.pid }));
  }

  register(method: string, help: string, handler: Handler): void {
    if (this.methods.has(method)) throw new Error(`control method ${method} registered twice`);
    this.methods.set(method, { help, handler });
  }

  /** Listen on `file` (mode 0660). A stale socket left by a crash is removed; a live one is an error. */
  async listen(file: string): Promise<void> {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (fs.existsSync(file)) {
      const alive = await new Promise<boolean>((r) => {
        const s = net.connect(file);
        s.once('connect', () => { s.destroy(); r(true); });
        s.once('error', () => r(false));
      });
      if (alive) throw new Error(`control socket ${file} is in use: is another edge-agent running?`);
      fs.unlinkSync(file);
    }
    const server = net.createServer((sock) => this.onConnection(sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(file, () => { server.off('error', reject); resolve(); });
    });
    server.on('error', (e) => this.log.error({ err: e.message }, 'control socket error'));
    fs.chmodSync(file, 0o660);
    this.server = server;
    this.path = file;
  }

  private onConnection(sock: net.Socket): void {
    this.conns.add(sock);
    const abort = new AbortController();
    sock.on('close', () => { this.conns.delete(sock); abort.abort(); });
    sock.on('error', () => {});
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (line) void this.dispatch(sock, line, abort.signal);
      }
      if (buf.length > MAX_LINE) {
        write(sock, { id: null, ok: false, error: { code: 'too-large', message: `request line over ${MAX_LINE} bytes` } });
        sock.destroy();
      }
    });
  }

  private async dispatch(sock: net.Socket, line: string, signal: AbortSignal): Promise<void> {
    let req: { id?: unknown; method?: unknown; params?: unknown };
    try {
      req = JSON.parse(line);
    } catch (e) {
      write(sock, { id: null, ok: false, error: { code: 'bad-request', message: `not JSON: ${(e as Error).message}` } });
      return;
    }
    const id = req.id ?? null;
    const m = typeof req.method === 'string' ? this.methods.get(req.method) : undefined;
    if (!m) {
      write(sock, { id, ok: false, error: { code: 'unknown-method', message: `unknown method ${JSON.stringify(req.method)}; try "methods"` } });
      return;
    }
    const params = (req.params && typeof req.params === 'object' ? req.params : {}) as Record<string, unknown>;
    try {
      const result = await m.handler(params, { emit: (event) => write(sock, { id, event }), signal });
      write(sock, { id, ok: true, result: result ?? null });
    } catch (e) {
      const code = e instanceof ControlError ? e.code : 'failed';
      if (!(e instanceof ControlError)) this.log.warn({ method: req.method, err: (e as Error).message }, 'control request failed');
      write(sock, { id, ok: false, error: { code, message: (e as Error).message } });
    }
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.destroy();
    if (this.server) await new Promise<void>((r) => this.server!.close(() => r()));
    this.server = undefined;
    try {
      if (this.path) fs.unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  }
}

function write(sock: net.Socket, msg: unknown): void {
  if (!sock.destroyed) sock.write(JSON.stringify(msg) + '\n');
}
