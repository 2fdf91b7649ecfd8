import type { Command } from 'commander';
import { loadConfigFile, ConfigInvalidError } from '../config/load.js';
import { formatError } from '../config/errors.js';
import { CliError } from './common.js';
import { controlRequest, ControlRequestError } from '../control/client.js';

export const DEFAULT_SOCKET = '/run/edge-agent/agent.sock';

export interface TargetOptions {
  socket?: string;
  config?: string;
}

/** --socket and --config options shared by every command that talks to the daemon. */
export function targetOptions(cmd: Command): Command {
  return cmd
    .option('-s, --socket <path>', `daemon control socket (default: control.socket of --config, else ${DEFAULT_SOCKET})`)
    .option('-c, --config <file>', 'config file of the daemon (to find its control socket)');
}

export function socketPath(o: TargetOptions): string {
  if (o.socket) return o.socket;
  if (o.config) {
    try {
      return loadConfigFile(o.config).config.control.socket;
    } catch (e) {
      if (e instanceof ConfigInvalidError) throw new CliError(e.errors.map((x) => formatError(x, e.file)).join('\n'));
      throw e;
    }
  }
  return DEFAULT_SOCKET;
}

/** One request; daemon errors and an unreachable socket become CLI errors (exit 1). */
export async function ask(o: TargetOptions, method: string, params: Record<string, unknown> = {}, timeoutMs = 10_000, onEvent?: (e: unknown) => void): Promise<unknown> {
  try {
    return await controlRequest(socketPath(o), method, params, { timeoutMs, onEvent });
  } catch (e) {
    if (e instanceof ControlRequestError) throw new CliError(e.message);
    throw e;
  }
}

/** Where a diagnostic ran: the daemon's answer, or undefined when the caller opens the port itself. */
export type Routed = { result: unknown } | undefined;

/**
 * A diagnostic on a port (SPEC "CLI"): through the running daemon when it holds the port, so the
 * two never fight over it; otherwise undefined and the caller opens the port directly. One line on
 * stderr says which path was taken. Daemon-side failures (Modbus timeout, bad params) are CLI errors.
 */
export async function throughDaemon(
  o: TargetOptions & { direct?: boolean },
  what: string,
  method: string,
  params: Record<string, unknown>,
  opts: { timeoutMs?: number; onEvent?: (e: unknown) => void; signal?: AbortSignal } = {},
): Promise<Routed> {
  const note = (s: string) => process.stderr.write(`# ${s}\n`);
  if (o.direct) {
    note(`opening ${what} directly (--direct)`);
    return undefined;
  }
  const sock = socketPath(o);
  let pid: number;
  try {
    pid = ((await controlRequest(sock, 'ping', {}, { timeoutMs: 3000 })) as { pid: number }).pid;
  } catch (e) {
    if (!(e instanceof ControlRequestError)) throw e;
    const why = e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? `no daemon at ${sock}`
      : e.code === 'EACCES' ? `no access to ${sock} (join the daemon's group)` : e.message;
    note(`${why}: opening ${what} directly`);
    return undefined;
  }
  let announced = false;
  const announce = () => {
    if (!announced) note(`via the running daemon (pid ${pid}), which holds ${what}`);
    announced = true;
  };
  try {
    const result = await controlRequest(sock, method, params, {
      ...opts,
      onEvent: (e) => {
        announce();
        opts.onEvent?.(e);
      },
    });
    announce();
    return { result };
  } catch (e) {
    if (!(e instanceof ControlRequestError)) throw e;
    if (e.code === 'not-held' || e.code === 'unknown-method') {
      note(`the daemon (pid ${pid}) ${e.code === 'not-held' ? 'does not hold it' : `has no ${method} (older version)`}: opening ${what} directly`);
      return undefined;
    }
    announce(); // it did go through the daemon, which answered with this failure
    throw new CliError(e.message);
  }
}
