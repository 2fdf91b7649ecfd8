import type { Command } from 'commander';
import type { CliTools } from '../../tooling.js';
import { registerRead } from './read.js';
import { registerWatch } from './watch.js';
import { registerWrite } from './write.js';

/** Subcommands of `edge-agent gpio`, in --help order. A new one: a file here, one line in this list. */
const subcommands: ((gpio: Command, tools: CliTools) => void)[] = [registerRead, registerWatch, registerWrite];

/** `edge-agent gpio ...` (the gpio driver's cli hook). */
export function registerGpioCli(program: Command, tools: CliTools): void {
  const gpio = program.command('gpio').description('read, watch and write GPIO lines (BCM numbering)');
  for (const add of subcommands) add(gpio, tools);
}
