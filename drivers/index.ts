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
