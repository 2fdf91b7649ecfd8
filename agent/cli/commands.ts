import type { Command } from 'commander';
import { register as run } from './run.js';
import { register as check } from './check.js';
import { register as status } from './status.js';
import { register as buffer } from './buffer.js';
import { register as modbus } from './modbus.js';
import { register as serial } from './serial.js';
import { register as gpio } from './gpio.js';
import { register as debug } from './debug.js';
import { register as config } from './config.js';

/** Every CLI command group, in --help order. A new group: a module with register(program), one line here. */
export const commandGroups: ((program: Command) => void)[] = [run, check, status, config, buffer, modbus, serial, gpio, debug];
