import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { CliError } from '../../../core/tool-errors.js';
import type { CliTools, DaemonTarget } from '../../tooling.js';
import { chooseBackend } from '../choose.js';
import { GpioResolveError, type SysfsTree } from '../sysfs-tree.js';

interface WriteOpts extends DaemonTarget {
  chip?: string;
  sysfsRoot?: string;
  backend: 'auto' | 'onoff' | 'sysfs';
  json?: boolean;
  direct?: boolean;
}

/**
 * `edge-agent gpio write LINE 0|1`. When the running daemon drives the line (a pin with
 * direction: out), the write goes through it as a command of origin `cli` (counted, logged, the
 * daemon's level and readings stay right); a line the daemon reads as an input is refused. Otherwise
 * the line is set directly and left exported as an output at that level.
 */
async function writeCmd(tools: CliTools, lineArg: string, valueArg: string, o: WriteOpts): Promise<void> {
  if (!/^\d+$/.test(lineArg) || Number(lineArg) > 1023) throw new CliError(`LINE must be a BCM line number (0-1023), got ${JSON.stringify(lineArg)}`, 2);
  if (valueArg !== '0' && valueArg !== '1') throw new CliError(`VALUE must be 0 or 1, got ${JSON.stringify(valueArg)}`, 2);
  if (!['auto', 'onoff', 'sysfs'].includes(o.backend)) throw new CliError('--backend must be auto, onoff or sysfs', 2);
  const line = Number(lineArg);
  const value = Number(valueArg) as 0 | 1;
  const routed = await tools.throughDaemon(o, `line ${line}`, 'gpio.write', { line, value });
  if (routed) {
    const r = routed.result as { source: string; pin: string; value: number };
    if (o.json) process.stdout.write(JSON.stringify({ line, value: r.value, via: 'daemon', source: r.source, pin: r.pin }) + '\n');
    else process.stdout.write(`line ${line} (${r.source}/${r.pin}): ${r.value}\n`);
    if (r.value !== value) process.exitCode = 1;
    return;
  }
  let backend;
  let resolved;
  try {
    backend = await chooseBackend({ backend: o.backend, sysfsRoot: o.sysfsRoot, chip: o.chip });
    resolved = await backend.resolve(line);
  } catch (e) {
    throw new CliError(e instanceof GpioResolveError ? e.message : `gpio: ${(e as Error).message}`);
  }
  const where = `line ${line} (gpio${resolved.number} on ${resolved.chipLabel})`;
  // A line another program exported as an input is not ours to turn into an output.
  const tree = (backend as { tree?: SysfsTree }).tree;
  if (tree?.isExported(resolved.number)) {
    let dir = '';
    try {
      dir = fs.readFileSync(path.join(tree.lineDir(resolved.number), 'direction'), 'utf8').trim();
    } catch {
      /* unreadable: treated as not an output */
    }
    if (dir !== 'out') throw new CliError(`${where}: exported by another program as ${dir || 'unknown direction'}; not written (is the daemon reading it? use its config, direction: out)`);
  }
  let h;
  try {
    h = await backend.open(resolved, { pollIntervalMs: 10, output: { initial: value } });
    h.write?.(value);
  } catch (e) {
    throw new CliError(`${where}: ${(e as Error).message}`);
  }
  const back = h.read();
  // Left exported as an output on purpose: closing would unexport it, and the level should hold.
  if (o.json) process.stdout.write(JSON.stringify({ line, gpio: resolved.number, chip: resolved.chipLabel, value: back, via: 'direct', backend: backend.name }) + '\n');
  else process.stdout.write(`${where}: ${back}\n`);
  if (back !== value) process.exitCode = 1;
}

/** Adds `write` to the `gpio` command group. */
export function registerWrite(gpio: Command, tools: CliTools): void {
  gpio.command('write')
    .argument('<LINE>', 'BCM line number')
    .argument('<VALUE>', '0 or 1 (the physical level; through the daemon the pin\'s logical level, after activeLow)')
    .description('drive a line as an output and print the level read back')
    .option('--chip <label>', 'gpiochip label (default: the Raspberry Pi header chip)')
    .option('--sysfs-root <dir>', 'sysfs GPIO root (default: $EDGE_AGENT_GPIO_SYSFS or /sys/class/gpio)')
    .option('--backend <name>', 'auto | onoff | sysfs', 'auto')
    .option('--json', 'machine-readable output')
    .option('--direct', 'do not ask the daemon')
    .option('-s, --socket <path>', `daemon control socket (default: control.socket of --config, else ${tools.defaultSocket})`)
    .option('-c, --config <file>', 'config file of the daemon (to find its control socket)')
    .addHelpText('after', `
When the running daemon drives the line (a gpio pin with direction: out), the write goes through it
as a command (counted in status, logged). A line it reads as an input is refused. Otherwise the line
is exported, set as an output at VALUE and left so (the level holds after the command exits).
Exit: 0 written and read back, 1 failure or a different level read back, 2 usage error.`)
    .action((line: string, value: string, o: WriteOpts) => writeCmd(tools, line, value, o));
}
