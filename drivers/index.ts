import type { DriverDefinition } from './types.js';
import { simDriver } from './sim/index.js';
import { serialDriver } from './serial/index.js';
import { gpioDriver } from './gpio/index.js';
import { modbusRtuDriver, modbusTcpDriver } from './modbus/index.js';

/**
 * Every driver the agent knows. Add a driver: a folder under drivers/ exporting a
 * DriverDefinition, plus one line here. Order does not matter.
 */
export const drivers: DriverDefinition[] = [
  simDriver as DriverDefinition,
  serialDriver as DriverDefinition,
  gpioDriver as DriverDefinition,
  modbusRtuDriver as DriverDefinition,
  modbusTcpDriver as DriverDefinition,
];

/** The drivers' tooling hooks, each function once (the two Modbus drivers share theirs), in registry order. */
export function toolingHooks<K extends 'cli' | 'control'>(key: K): NonNullable<DriverDefinition[K]>[] {
  const out: NonNullable<DriverDefinition[K]>[] = [];
  for (const d of drivers) {
    const h = d[key];
    if (h && !out.includes(h as NonNullable<DriverDefinition[K]>)) out.push(h as NonNullable<DriverDefinition[K]>);
  }
  return out;
}
