import { z } from 'zod';
import { duration, identifier, sourceBase } from '../../core/config-primitives.js';
import { DATA_TYPES, MAX_BITS, MAX_REGISTERS, TABLES, isBitTable, registerWidth } from './types.js';

const order = z.enum(['big', 'little']);

export const pointSchema = z.strictObject({
  name: identifier(),
  table: z.enum(TABLES),
  address: z.int().min(0).max(65535),
  /** Default: bool for coil/discrete, uint16 for holding/input. */
  type: z.enum(DATA_TYPES).optional(),
  /** string: its length in registers (2 characters each). */
  count: z.int().min(1).max(MAX_REGISTERS).optional(),
  /** bool on a holding/input register: the bit (0 = least significant). */
  bit: z.int().min(0).max(15).optional(),
  byteOrder: order.default('big'),
  wordOrder: order.default('big'),
  scale: z.number().refine(Number.isFinite, 'must be finite').default(1),
  offset: z.number().refine(Number.isFinite, 'must be finite').default(0),
  unit: z.string().optional(),
  pollInterval: duration().refine((v) => v >= 10, 'must be at least 10ms').optional(),
  /** Overrides the source's unitId for this point. */
  unitId: z.int().min(0).max(255).optional(),
  /**
   * Makes the point writable by commands (SPEC "Commands"): `true` on coils and bool registers,
   * `{ min, max }` (engineering units, after scale) on numeric holding registers. Absent: read-only.
   */
  write: z.union([
    z.literal(true),
    z.strictObject({ min: z.number().refine(Number.isFinite, 'must be finite'), max: z.number().refine(Number.isFinite, 'must be finite') }),
  ]).optional(),
});

export type PointConfig = z.output<typeof pointSchema>;

/** Settings shared by modbus-rtu and modbus-tcp. */
const common = {
  ...sourceBase,
  unitId: z.int().min(0).max(255).default(1),
  pollInterval: duration().refine((v) => v >= 10, 'must be at least 10ms').default(1000),
  timeout: duration().refine((v) => v >= 1, 'must be at least 1ms').default(1000),
  retries: z.int().min(0).max(10).default(1),
  /** Pause between the end of one exchange and the next request (default RTU: 3.5 characters, TCP: 0). */
  interFrameDelay: duration().optional(),
  maxGap: z.int().min(0).max(MAX_REGISTERS).default(10),
  /** Lower the per-request limits for devices that cannot serve full-size reads. */
  maxRegisters: z.int().min(1).max(MAX_REGISTERS).default(MAX_REGISTERS),
  maxBits: z.int().min(1).max(MAX_BITS).default(MAX_BITS),
  points: z.array(pointSchema).min(1),
};

function checkPoints(cfg: { points: PointConfig[] }, ctx: z.RefinementCtx): void {
  const seen = new Map<string, number>();
  cfg.points.forEach((p, i) => {
    const at = (key: string) => ['points', i, key];
    const prev = seen.get(p.name);
    if (prev !== undefined) ctx.addIssue({ code: 'custom', path: at('name'), message: `duplicate point name "${p.name}" (also points[${prev}])` });
    else seen.set(p.name, i);
    const bits = isBitTable(p.table);
    const type = p.type ?? (bits ? 'bool' : 'uint16');
    if (bits && type !== 'bool') ctx.addIssue({ code: 'custom', path: at('type'), message: `${p.table} holds single bits: type must be bool (got ${type})` });
    if (type === 'string' && p.count === undefined) ctx.addIssue({ code: 'custom', path: at('count'), message: 'required for type string (length in registers, 2 characters each)' });
    if (type !== 'string' && p.count !== undefined) ctx.addIssue({ code: 'custom', path: at('count'), message: 'only for type string' });
    if (p.bit !== undefined && (bits || type !== 'bool')) ctx.addIssue({ code: 'custom', path: at('bit'), message: 'only for type bool on a holding or input register' });
    if ((type === 'bool' || type === 'string') && (p.scale !== 1 || p.offset !== 0)) ctx.addIssue({ code: 'custom', path: at(p.scale !== 1 ? 'scale' : 'offset'), message: `not applicable to type ${type}` });
    checkWrite(p, type, (key, message) => ctx.addIssue({ code: 'custom', path: key ? at('write').concat(key) : at('write'), message }));
    const width = bits ? 1 : registerWidth(type, p.count);
    if (p.address + width > 65536) ctx.addIssue({ code: 'custom', path: at('address'), message: `${type} at ${p.address} needs ${width} registers and runs past 65535` });
  });
}

/** Which points may carry `write`, and in which form (the safety rules of SPEC "Commands"). */
function checkWrite(p: PointConfig, type: string, issue: (key: string | undefined, message: string) => void): void {
  const w = p.write;
  if (w === undefined) return;
  if (p.table === 'input' || p.table === 'discrete') {
    issue(undefined, `${p.table === 'input' ? 'input registers' : 'discrete inputs'} are read-only in Modbus; only holding registers and coils can be written`);
    return;
  }
  if (type === 'string') return issue(undefined, 'writing strings is not supported');
  if (type === 'bool') {
    if (w !== true) issue(undefined, `a ${p.table === 'coil' ? 'coil' : 'bool point'} takes write: true (no range)`);
    return;
  }
  if (w === true) return issue(undefined, `a numeric register needs the range a command may set: write: { min, max }`);
  if (w.min > w.max) issue('min', `min ${w.min} is above max ${w.max}`);
}

export const modbusRtuSchema = z.strictObject({
  ...common,
  driver: z.literal('modbus-rtu'),
  /** Prefer /dev/serial/by-id/... : stable across re-plugs and reboots. */
  port: z.string().min(1),
  baudRate: z.int().min(50).max(4_000_000).default(9600),
  parity: z.enum(['none', 'even', 'odd']).default('none'),
  dataBits: z.union([z.literal(7), z.literal(8)]).default(8),
  stopBits: z.union([z.literal(1), z.literal(2)]).default(1),
}).superRefine((cfg, ctx) => {
  checkPoints(cfg, ctx);
  // On a serial line unit 0 is broadcast: devices act on it but never answer a read.
  if (cfg.unitId === 0) ctx.addIssue({ code: 'custom', path: ['unitId'], message: '0 is the broadcast address on RTU: no device answers it (use 1..247)' });
  cfg.points.forEach((p, i) => {
    if (p.unitId === 0) ctx.addIssue({ code: 'custom', path: ['points', i, 'unitId'], message: '0 is the broadcast address on RTU: no device answers it (use 1..247)' });
  });
});

export const modbusTcpSchema = z.strictObject({
  ...common,
  driver: z.literal('modbus-tcp'),
  host: z.string().min(1),
  port: z.int().min(1).max(65535).default(502),
}).superRefine(checkPoints);

export type ModbusRtuConfig = z.output<typeof modbusRtuSchema>;
export type ModbusTcpConfig = z.output<typeof modbusTcpSchema>;
export type ModbusConfig = ModbusRtuConfig | ModbusTcpConfig;
