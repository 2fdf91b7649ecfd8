import { defineDriver } from '../types.js';
import { modbusRtuSchema, modbusTcpSchema } from './config.js';
import { ModbusSource } from './source.js';
import { registerModbusCli } from './cli/index.js';
import { registerModbusControl } from './control.js';

/** Modbus RTU over a serial port (RS-485/RS-232). Several sources naming one port share one bus. */
export const modbusRtuDriver = defineDriver({
  name: 'modbus-rtu',
  schema: modbusRtuSchema,
  create: (cfg, ctx) => new ModbusSource(cfg, ctx),
  pointNames: (cfg) => cfg.points.map((p) => p.name),
  cli: registerModbusCli,
  control: registerModbusControl,
});

/** Modbus TCP; one connection (one request in flight) per host:port, shared by the sources naming it. */
export const modbusTcpDriver = defineDriver({
  name: 'modbus-tcp',
  schema: modbusTcpSchema,
  create: (cfg, ctx) => new ModbusSource(cfg, ctx),
  pointNames: (cfg) => cfg.points.map((p) => p.name),
  cli: registerModbusCli,
  control: registerModbusControl,
});
