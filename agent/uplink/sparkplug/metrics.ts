import type { PointDescriptor, PointType } from '../../../core/points.js';
import type { Quality, Value } from '../../../core/reading.js';
import { DataType, type Metric } from './payload.js';

/** A point's datatype from its declared type (issue 17: int16 -> Int16, float32 -> Float, ...). */
const BY_TYPE: Record<PointType, number> = {
  bool: DataType.Boolean, int16: DataType.Int16, uint16: DataType.UInt16, int32: DataType.Int32, uint32: DataType.UInt32,
  int64: DataType.Int64, uint64: DataType.UInt64, float32: DataType.Float, float64: DataType.Double, string: DataType.String,
};

/** Untyped points (serial kv/json, aggregate outputs `<point>.<fn>`) take their type from a value. */
export function datatypeOfValue(v: Value): number {
  return typeof v === 'boolean' ? DataType.Boolean : typeof v === 'string' ? DataType.String : DataType.Double;
}

export function datatypeOf(p: PointDescriptor | undefined, v: Value | undefined): number {
  if (p?.type) return BY_TYPE[p.type];
  return v === undefined ? DataType.Double : datatypeOfValue(v);
}

const RANGE: Record<number, [number, number]> = {
  [DataType.Int16]: [-32768, 32767], [DataType.UInt16]: [0, 65535],
  [DataType.Int32]: [-2147483648, 2147483647], [DataType.UInt32]: [0, 4294967295],
  [DataType.Int64]: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER], [DataType.UInt64]: [0, Number.MAX_SAFE_INTEGER],
};

/** Whether `v` can be carried by a metric of datatype `dt` without loss. */
export function fits(dt: number, v: Value): boolean {
  if (dt === DataType.Boolean) return typeof v === 'boolean';
  if (dt === DataType.String) return typeof v === 'string';
  if (typeof v !== 'number') return false;
  if (dt === DataType.Float || dt === DataType.Double) return true;
  const r = RANGE[dt];
  return r !== undefined && Number.isInteger(v) && v >= r[0] && v <= r[1];
}

/** Puts `v` in the value field the schema uses for `dt` (call only when `fits`). */
export function setValue(m: Metric, dt: number, v: Value): void {
  switch (dt) {
    case DataType.Boolean: m.boolean_value = v as boolean; break;
    case DataType.String: m.string_value = v as string; break;
    case DataType.Float: m.float_value = v as number; break;
    case DataType.Double: m.double_value = v as number; break;
    case DataType.Int64: case DataType.UInt64: m.long_value = v as number; break;
    // Sparkplug 3.0: signed 8/16/32-bit values travel in int_value (uint32) as two's complement.
    default: m.int_value = (v as number) >>> 0;
  }
}

/** A metric's value as sent (DCMD): the field its datatype names; signed ints from two's complement. */
export function getValue(m: Metric, dt: number | undefined): Value | undefined {
  switch (dt) {
    case DataType.Boolean: return m.boolean_value;
    case DataType.String: return m.string_value;
    case DataType.Float: return m.float_value;
    case DataType.Double: return m.double_value;
    case DataType.Int64: case DataType.UInt64: return m.long_value;
    case DataType.Int8: return m.int_value === undefined ? undefined : (m.int_value << 24) >> 24;
    case DataType.Int16: return m.int_value === undefined ? undefined : (m.int_value << 16) >> 16;
    case DataType.Int32: return m.int_value === undefined ? undefined : m.int_value | 0;
    case DataType.UInt8: case DataType.UInt16: case DataType.UInt32: return m.int_value;
    // No datatype known: whichever field is present.
    default: return m.boolean_value ?? m.double_value ?? m.float_value ?? m.long_value ?? m.int_value ?? m.string_value;
  }
}

/** Quality rides in the metric's properties the way Ignition reads it (192 good, 64 uncertain, 0 bad). */
const QUALITY_CODE: Record<Quality, number> = { good: 192, uncertain: 64, bad: 0 };
export function qualityProperty(q: Quality): Metric['properties'] {
  return { keys: ['Quality'], values: [{ type: DataType.Int32, int_value: QUALITY_CODE[q] }] };
}

export interface MetricDef {
  name: string;
  alias: number;
  datatype: number;
}

/** One device's metrics: name -> alias and datatype. Aliases are unique over the edge node. */
export class DeviceMetrics {
  readonly byName = new Map<string, MetricDef>();
  constructor(readonly id: string) {}
}
