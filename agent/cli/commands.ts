import type { Command } from 'commander';
import { register as run } from './run.js';
import { register as check } from './check.js';
import { register as status } from './status.js';
import { register as buffer } from './buffer.js';
import { register as debug } from './debug.js';
import { register as config } from './config.js';
import { toolingHooks } from '../../drivers/index.js';
import { driverCliTools } from './driver-tools.js';

/**
 * Every CLI command group, in --help order: the agent's own, then each driver's (its `cli` hook,
 * in its folder under drivers/). A new agent group: a module with register(program), one line
 * here; a driver's group needs no line here.
 */
export const commandGroups: ((program: Command) => void)[] = [
  run, check, status, config, buffer,
  ...toolingHooks('cli').map((register) => (program: Command) => register(program, driverCliTools)),
  debug,
];
