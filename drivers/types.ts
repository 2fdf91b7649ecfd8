import type { z } from 'zod';
import type { Command } from 'commander';
import type { CliTools, ControlRegistry } from './tooling.js';
import type { Logger } from '../core/log.js';
import type { Clock } from '../core/clock.js';
import type { Quality, Value } from '../core/reading.js';
import type { PointDescriptor } from '../core/points.js';

/** Health of a source as shown by `edge-agent status` and /healthz. */
export type SourceState = 'starting' | 'ok' | 'backing-off' | 'down' | 'stopped';

/**
 * One agent's registries that its sources share and its control hooks search: a key per driver
 * (`modbus.buses`, `serial.taps`). Per agent, never a module global.
 */
export interface DriverHost {
  /** The one value of `key` in this agent, made by `make` on first use. */
  shared<T>(key: string, make: () => T): T;
}

/**
 * What the runtime hands a driver. The driver never builds Reading objects itself or
 * talks to pipelines: it calls `emit`, and the runtime stamps, counts and routes.
 */
export interface SourceContext {
  readonly sourceId: string;
  readonly log: Logger;
  readonly clock: Clock;
  /** Writable per-agent directory (e.g. for persisted pulse totals). */
  readonly dataDir: string;
  /** State shared by the sources of one agent (a Modbus bus, the serial taps). */
  readonly host: DriverHost;
  /** One reading. `ts` defaults to clock.now(). */
  emit(point: string, value: Value, quality?: Quality, ts?: number): void;
  /**
   * A counted, rate-limited-logged fault. `kind` is a short stable label
   * (`timeout`, `modbus-exception`, `parse`, `disconnected`, ...).
   */
  error(kind: string, message: string, point?: string): void;
  /** Report a state change (logged once per change). */
  setState(state: SourceState, detail?: string): void;
}

/**
 * A running source. `open` starts acquisition and must not throw for device absence:
 * the driver reconnects by itself with backoff and reports state instead.
 */
export interface Driver {
  open(): Promise<void>;
  /** Stop timers, release the device. Idempotent. */
  close(): Promise<void>;
  /** Driver-specific details for `edge-agent status` (bus queue depth, port, ...). */
  diagnostics?(): Record<string, unknown>;
  /**
   * Writes one writable point (SPEC "Commands") on the device's own queue, between polls, and
   * resolves with the value read back (undefined where the device cannot be read back). The caller
   * has already validated the value against `writable()`. Device failures reject with WriteFailed.
   */
  write?(point: string, value: Value): Promise<Value | undefined>;
}

/** What a command may set on a point: its type and, for numbers, the configured range. */
export type WritableSpec =
  | { type: 'bool' }
  | { type: 'number'; min: number; max: number; integer?: boolean };

/** A write the device refused or never answered; the message names the device error. */
export class WriteFailed extends Error {}

/** One entry in drivers/index.ts: a config schema plus a factory. */
export interface DriverDefinition<S extends z.ZodType = z.ZodType> {
  /** Value of `driver:` in the config. */
  readonly name: string;
  /** Strict object schema, including `driver: z.literal(name)` and `...sourceBase`. */
  readonly schema: S;
  create(config: z.output<S>, ctx: SourceContext): Driver;
  /** Point names this source can emit (for validation of pipelines and status). Optional. */
  pointNames?(config: z.output<S>): string[];
  /** The point's write rule when the config makes it writable; undefined = read-only. */
  writable?(config: z.output<S>, point: string): WritableSpec | undefined;
  /** Points with their value types (Sparkplug DBIRTH datatypes). Optional: names alone are the fallback. */
  points?(config: z.output<S>): PointDescriptor[];
  /**
   * Adds the driver's CLI command group (`edge-agent modbus ...`). Drivers that share a group
   * (modbus-rtu, modbus-tcp) share the function: it is registered once.
   */
  readonly cli?: (program: Command, tools: CliTools) => void;
  /**
   * Registers the driver's control-socket methods (diagnostics on ports the daemon holds); `host`
   * is the running agent's shared driver state. A function shared by several drivers runs once.
   */
  readonly control?: (server: ControlRegistry, host: DriverHost) => void;
}

/** A source's point descriptors: typed when the driver says, else named only (types learnt from data). */
export function pointDescriptors(def: DriverDefinition, config: unknown): PointDescriptor[] {
  if (def.points) return def.points(config);
  return def.pointNames ? def.pointNames(config).map((name) => ({ name })) : [];
}

export function defineDriver<S extends z.ZodType>(d: DriverDefinition<S>): DriverDefinition<S> {
  return d;
}
