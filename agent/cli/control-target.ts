import type { Command } from 'commander';
import { loadConfigFile } from '../config/load.js';
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
  if (o.config) return loadConfigFile(o.config).config.control.socket;
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
