import { execFile } from 'node:child_process';
import type { Logger } from '../../core/log.js';

/**
 * How we talk to $NOTIFY_SOCKET (an AF_UNIX SOCK_DGRAM socket; Node's core has no unix datagram
 * sockets: `dgram` is UDP only, `net` is stream only). Options weighed:
 *
 * - A small native package (sd-notify, unix-dgram): a fourth native addon to build for x64, arm64
 *   and armv7 on top of better-sqlite3, serialport and epoll, for a few datagrams a minute; the
 *   candidates are thin, old node-gyp packages. Rejected: more to build and break per Node ABI.
 * - `systemd-notify VAR=VALUE` with `NotifyAccess=all` (chosen): it is on every machine that runs
 *   systemd (same package), needs nothing built, and since systemd 246 it waits for a barrier
 *   (BARRIER=1 + fd) until PID 1 has processed the message, so the classic race (helper exits
 *   before PID 1 can attribute its message to our cgroup, message dropped) is gone; Debian 12 and
 *   Raspberry Pi OS bookworm ship 252. Cost: one fork+exec per message: READY once, STOPPING once,
 *   WATCHDOG every WatchdogSec/2 (15 s): negligible. NotifyAccess=all lets any process of the unit
 *   notify; every process in our cgroup is ours.
 * - Writing the datagram from a python/socat helper: neither is guaranteed on a board.
 *
 * Messages are sent one at a time, in order. A missing NOTIFY_SOCKET (not under systemd, or
 * Type=simple) makes every call a no-op.
 */
export interface Notifier {
  readonly enabled: boolean;
  /** Send `VAR=VALUE` fields as one message. Resolves false on failure (logged once per cause). */
  send(...fields: string[]): Promise<boolean>;
  /** A send is in progress (the watchdog skips a keep-alive rather than queue them). */
  readonly busy: boolean;
}

/** How long one systemd-notify may take (it waits for PID 1's barrier; 5 s is its own default). */
const SEND_TIMEOUT_MS = 10_000;

export function systemdNotifier(log: Logger, env: NodeJS.ProcessEnv = process.env, command = 'systemd-notify'): Notifier {
  const socket = env.NOTIFY_SOCKET;
  if (!socket) return { enabled: false, busy: false, send: async () => false };
  let chain: Promise<unknown> = Promise.resolve();
  let inflight = 0;
  let lastError = '';
  const once = (fields: string[]) =>
    new Promise<boolean>((resolve) => {
      execFile(command, fields, { env: { ...env, NOTIFY_SOCKET: socket }, timeout: SEND_TIMEOUT_MS }, (err, _out, stderr) => {
        if (!err) {
          lastError = '';
          return resolve(true);
        }
        const msg = `${err.message.split('\n')[0]} ${String(stderr).trim()}`.trim();
        if (msg !== lastError) log.error({ err: msg, fields }, 'cannot notify systemd (is systemd-notify installed?)');
        lastError = msg;
        resolve(false);
      });
    });
  return {
    enabled: true,
    get busy() {
      return inflight > 0;
    },
    send(...fields: string[]) {
      inflight++;
      const p = chain.then(() => once(fields)).finally(() => inflight--);
      chain = p;
      return p;
    },
  };
}
