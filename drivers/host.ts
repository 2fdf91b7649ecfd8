import type { DriverHost } from './types.js';

/**
 * One agent's shared driver state (Modbus buses, serial taps), keyed by the driver that owns it.
 * The runtime makes one per agent and hands it to every source through its SourceContext and to
 * the drivers' control hooks.
 */
export class SharedHost implements DriverHost {
  private readonly items = new Map<string, unknown>();

  shared<T>(key: string, make: () => T): T {
    let v = this.items.get(key) as T | undefined;
    if (v === undefined) this.items.set(key, (v = make()));
    return v;
  }
}
