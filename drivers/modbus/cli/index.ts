import type { Command } from 'commander';
import type { CliTools } from '../../tooling.js';
import { registerRead } from './read.js';
import { registerScan } from './scan.js';
import { registerPlan } from './plan.js';
import { registerWrite } from './write.js';

/** Subcommands of `edge-agent modbus`, in --help order. A new one: a file here, one line in this list. */
const subcommands: ((modbus: Command, tools: CliTools) => void)[] = [registerRead, registerScan, registerWrite, registerPlan];

/** `edge-agent modbus ...` (the cli hook of both Modbus drivers). */
export function registerModbusCli(program: Command, tools: CliTools): void {
  const modbus = program.command('modbus').description('Modbus RTU/TCP diagnostics: one-off reads and writes, unit-id scans, request plans');
  for (const add of subcommands) add(modbus, tools);
}
