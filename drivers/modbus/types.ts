/** Modbus data model shared by the drivers, the planner and the CLI. */

export const TABLES = ['coil', 'discrete', 'holding', 'input'] as const;
export type Table = (typeof TABLES)[number];

export const DATA_TYPES = ['bool', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64', 'string'] as const;
export type DataType = (typeof DATA_TYPES)[number];

export type Order = 'big' | 'little';

/** Read function code per table. */
export const READ_FC: Record<Table, number> = { coil: 1, discrete: 2, holding: 3, input: 4 };

export const isBitTable = (t: Table): boolean => t === 'coil' || t === 'discrete';

/** Registers one value of a type occupies (string: its configured count). */
export function registerWidth(type: DataType, count?: number): number {
  switch (type) {
    case 'bool': case 'int16': case 'uint16': return 1;
    case 'int32': case 'uint32': case 'float32': return 2;
    case 'int64': case 'uint64': case 'float64': return 4;
    case 'string': return count ?? 1;
  }
}

/** Modbus protocol limits per read request (spec: FC1/2 2000 bits, FC3/4 125 registers). */
export const MAX_REGISTERS = 125;
export const MAX_BITS = 2000;

/** Exception codes by name, as operators search for them in device manuals. */
const EXCEPTION_NAMES: Record<number, string> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'slave device failure',
  5: 'acknowledge',
  6: 'slave device busy',
  7: 'negative acknowledge',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

export function exceptionName(code: number): string {
  return EXCEPTION_NAMES[code] ?? `unknown exception`;
}

/** ABCD-style label of a byte/word order pair, for messages and docs. */
export function orderLabel(byteOrder: Order, wordOrder: Order): string {
  return byteOrder === 'big' ? (wordOrder === 'big' ? 'ABCD' : 'CDAB') : (wordOrder === 'big' ? 'BADC' : 'DCBA');
}

/** Inverse of orderLabel, for the CLI's --order shorthand. */
export function parseOrderLabel(label: string): { byteOrder: Order; wordOrder: Order } | undefined {
  switch (label.toUpperCase()) {
    case 'ABCD': return { byteOrder: 'big', wordOrder: 'big' };
    case 'CDAB': return { byteOrder: 'big', wordOrder: 'little' };
    case 'BADC': return { byteOrder: 'little', wordOrder: 'big' };
    case 'DCBA': return { byteOrder: 'little', wordOrder: 'little' };
    default: return undefined;
  }
}
