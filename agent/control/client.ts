import net from 'node:net';

export class ControlRequestError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

/**
 * One request to the daemon's control socket. `onEvent` receives streamed events (monitors);
 * resolves with the result, rejects with the daemon's error or when the socket is unreachable.
 * Aborting `signal` hangs up (the daemon's handler sees its ctx.signal abort) and resolves undefined:
 * that is how a monitor is stopped.
 */
export function controlRequest(socketPath: string, method: string, params: Record<string, unknown> = {}, opts: { timeoutMs?: number; onEvent?: (e: unknown) => void; signal?: AbortSignal } = {}): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return resolve(undefined);
    const sock = net.connect(socketPath);
    let buf = '';
    let done = false;
    const finish = (err: Error | undefined, result?: unknown) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      sock.destroy();
      if (err) reject(err);
      else resolve(result);
    };
    const timer = opts.timeoutMs ? setTimeout(() => finish(new ControlRequestError(`no answer from ${socketPath} within ${opts.timeoutMs} ms`, 'timeout')), opts.timeoutMs) : undefined;
    const onAbort = () => finish(undefined, undefined);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    sock.setEncoding('utf8');
    sock.once('connect', () => sock.write(JSON.stringify({ id: 1, method, params }) + '\n'));
    sock.on('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? 'is the daemon running? (control.socket in its config)' : e.message;
      finish(new ControlRequestError(`cannot reach the daemon at ${socketPath}: ${why}`, e.code ?? 'unreachable'));
    });
    sock.on('close', () => finish(new ControlRequestError(`daemon closed the control socket before answering`, 'closed')));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buf.slice(0, i)) as { id: unknown; ok?: boolean; result?: unknown; event?: unknown; error?: { code: string; message: string } };
        buf = buf.slice(i + 1);
        if ('event' in msg) opts.onEvent?.(msg.event);
        else if (msg.ok) finish(undefined, msg.result);
        else finish(new ControlRequestError(msg.error?.message ?? 'failed', msg.error?.code ?? 'failed'));
      }
    });
  });
}
