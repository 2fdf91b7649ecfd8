import { defineDriver } from '../types.js';
import { modbusRtuSchema, modbusTcpSchema } from './config.js';
import { ModbusSource } from './source.js';
import { modbusWritable } from './write.js';

/** Modbus RTU over a serial port (RS-485/RS-232). Several sources naming one port share one bus. */
export const modbusRtuDriver = defineDriver({
  name: 'modbus-rtu',
  schema: modbusRtuSchema,
  create: (cfg, ctx) => new ModbusSource(cfg, ctx),
  pointNames: (cfg) => cfg.points.map((p) => p.name),
  writable: modbusWritable,
});

/** Modbus TCP; one connection (one request in flight) per host:port, shared by the sources naming it. */
export const modbusTcpDriver = defineDriver({
  name: 'modbus-tcp',
  schema: modbusTcpSchema,
  create: (cfg, ctx) => new ModbusSource(cfg, ctx),
  pointNames: (cfg) => cfg.points.map((p) => p.name),
  writable: modbusWritable,
});
