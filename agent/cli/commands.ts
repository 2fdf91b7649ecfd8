import type { Command } from 'commander';
import { register as run } from './run.js';
import { register as check } from './check.js';
import { register as buffer } from './buffer.js';
import { register as modbus } from './modbus.js';

/** Every CLI command group, in --help order. A new group: a module with register(program), one line here. */
export const commandGroups: ((program: Command) => void)[] = [run, check, buffer, modbus];
