import type { Command } from 'commander';
import type { CliTools } from '../../tooling.js';
import { registerList } from './list.js';
import { registerMonitor } from './monitor.js';

/** Subcommands of `edge-agent serial`, in --help order. A new one: a file here, one line in this list. */
const subcommands: ((serial: Command, tools: CliTools) => void)[] = [registerList, registerMonitor];

/** `edge-agent serial ...` (the serial driver's cli hook). */
export function registerSerialCli(program: Command, tools: CliTools): void {
  const serial = program.command('serial').description('serial line diagnostics');
  for (const add of subcommands) add(serial, tools);
}
