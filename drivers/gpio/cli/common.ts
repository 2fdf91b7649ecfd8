import type { Command } from 'commander';
import { CliError } from '../../../core/tool-errors.js';
import { parseDuration } from '../../../core/units.js';
import { chooseBackend } from '../choose.js';
import { GpioResolveError } from '../sysfs-tree.js';
import type { GpioBackend, ResolvedLine } from '../backend.js';

/** Options every `gpio` subcommand takes. */
export interface CommonOpts {
  activeLow?: boolean;
  chip?: string;
  sysfsRoot?: string;
  backend: 'auto' | 'onoff' | 'sysfs';
  json?: boolean;
}

export function parseLine(s: string): number {
  if (!/^\d+$/.test(s) || Number(s) > 1023) throw new CliError(`LINE must be a BCM line number (0-1023), got ${JSON.stringify(s)}`, 2);
  return Number(s);
}

export function parseMs(what: string, s: string): number {
  const v = parseDuration(/^\d+$/.test(s) ? Number(s) : s);
  if (v === undefined) throw new CliError(`${what}: invalid duration ${JSON.stringify(s)} (e.g. 20ms, 1s)`, 2);
  return v;
}

export async function resolveLine(line: number, o: CommonOpts): Promise<{ backend: GpioBackend; r: ResolvedLine }> {
  if (!['auto', 'onoff', 'sysfs'].includes(o.backend)) throw new CliError(`--backend must be auto, onoff or sysfs`, 2);
  try {
    const backend = await chooseBackend({ backend: o.backend, sysfsRoot: o.sysfsRoot, chip: o.chip });
    return { backend, r: await backend.resolve(line) };
  } catch (e) {
    if (e instanceof GpioResolveError) throw new CliError(e.message);
    throw new CliError(`gpio: ${(e as Error).message}`);
  }
}

export const where = (r: ResolvedLine) => `line ${r.line} (gpio${r.number} on ${r.chipLabel})`;

export function commonOptions(c: Command): Command {
  return c
    .option('--active-low', 'invert the level (as the pin option activeLow)')
    .option('--chip <label>', 'gpiochip label (default: the Raspberry Pi header chip)')
    .option('--sysfs-root <dir>', 'sysfs GPIO root (default: $EDGE_AGENT_GPIO_SYSFS or /sys/class/gpio)')
    .option('--backend <name>', 'auto | onoff | sysfs', 'auto')
    .option('--json', 'machine-readable output');
}
