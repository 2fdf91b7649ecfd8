import protobuf from 'protobufjs/light.js';
import { descriptor } from './descriptor.js';

/**
 * Sparkplug B payloads with protobufjs/light and the descriptor generated from the vendored
 * Tahu schema (sparkplug_b.proto): no .proto parsing at start, no parser in the bundle.
 * Field names are the .proto's (snake_case).
 */

/** DataType enum of the schema (the values the profile uses). */
export const DataType = {
  Int8: 1, Int16: 2, Int32: 3, Int64: 4, UInt8: 5, UInt16: 6, UInt32: 7, UInt64: 8,
  Float: 9, Double: 10, Boolean: 11, String: 12, DateTime: 13, Text: 14,
} as const;

export interface PropertyValue {
  type: number;
  int_value?: number;
  string_value?: string;
}

export interface Metric {
  name?: string;
  alias?: number;
  timestamp?: number;
  datatype?: number;
  is_historical?: boolean;
  is_null?: boolean;
  properties?: { keys: string[]; values: PropertyValue[] };
  int_value?: number;
  long_value?: number;
  float_value?: number;
  double_value?: number;
  boolean_value?: boolean;
  string_value?: string;
}

export interface SparkplugPayload {
  timestamp: number;
  metrics: Metric[];
  seq?: number;
}

const Payload = protobuf.Root.fromJSON(descriptor as protobuf.INamespace).lookupType('org.eclipse.tahu.protobuf.Payload');

export function encodePayload(p: SparkplugPayload): Buffer {
  const u8 = Payload.encode(p as unknown as protobuf.Message).finish();
  return Buffer.from(u8.buffer, u8.byteOffset, u8.length);
}

/** Decodes NCMD/DCMD (and tests); 64-bit fields come back as numbers. Throws on bad bytes. */
export function decodePayload(buf: Uint8Array): SparkplugPayload {
  return Payload.toObject(Payload.decode(buf), { longs: Number, defaults: false }) as SparkplugPayload;
}
