import { defineDriver } from '../types.js';
import { modbusRtuSchema, modbusTcpSchema } from './config.js';
import { ModbusSource } from './source.js';
import { modbusWritable } from './write.js';
import type { PointDescriptor } from '../../core/points.js';
import type { PointConfig } from './config.js';
import { isBitTable } from './types.js';

/** Scaled or offset registers carry fractions, whatever the register type. */
function modbusPoints(points: readonly PointConfig[]): PointDescriptor[] {
  return points.map((p) => ({
    name: p.name,
    type: p.scale !== 1 || p.offset !== 0 ? 'float64' : (p.type ?? (isBitTable(p.table) ? 'bool' : 'uint16')),
  }));
}
import { registerModbusCli } from './cli/index.js';
import { registerModbusControl } from './control.js';

/** Modbus RTU over a serial port (RS-485/RS-232). Several sources naming one port share one bus. */
export const modbusRtuDriver = defineDriver({
  name: 'modbus-rtu',
  schema: modbusRtuSchema,
  create: (cfg, ctx) => new ModbusSource(cfg, ctx),
  pointNames: (cfg) => cfg.points.map((p) => p.name),
  writable: modbusWritable,
  points: (cfg) => modbusPoints(cfg.points),
  cli: registerModbusCli,
  control: registerModbusControl,
});

/** Modbus TCP; one connection (one request in flight) per host:port, shared by the sources naming it. */
export const modbusTcpDriver = defineDriver({
  name: 'modbus-tcp',
  schema: modbusTcpSchema,
  create: (cfg, ctx) => new ModbusSource(cfg, ctx),
  pointNames: (cfg) => cfg.points.map((p) => p.name),
  writable: modbusWritable,
  points: (cfg) => modbusPoints(cfg.points),
  cli: registerModbusCli,
  control: registerModbusControl,
});
