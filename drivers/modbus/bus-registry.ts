import { devicePath } from '../../core/device-path.js';
import type { DriverHost } from '../types.js';
import type { Bus, BusClient } from './bus.js';

/** A bus as the registry holds it: who opened it and with which line settings. */
export interface HeldBus {
  bus: Bus;
  owner: string;
  settings: string;
}

/**
 * The buses of one agent by key (`rtu:/dev/ttyUSB0`, `tcp:10.0.0.5:502`), shared by every source
 * naming them, and found by the control socket's diagnostics. Per agent (through the
 * SourceContext's host), not a module global: two agents in one process (tests) keep their own.
 */
export class BusRegistry {
  private readonly buses = new Map<string, HeldBus>();

  acquire(key: string, settings: string, owner: string, create: () => Bus): Bus {
    const found = this.buses.get(key);
    if (found) {
      if (found.settings !== settings) {
        throw new Error(`${key} is already used by source "${found.owner}" with different settings (${found.settings}); sources sharing a bus must agree`);
      }
      return found.bus;
    }
    const bus = create();
    this.buses.set(key, { bus, settings, owner });
    return bus;
  }

  async release(bus: Bus, c: BusClient): Promise<void> {
    if (bus.detach(c)) {
      if (this.buses.get(bus.key)?.bus === bus) this.buses.delete(bus.key);
      await bus.close();
    }
  }

  /**
   * The running bus for a serial port (`rtu`, matched by the device it resolves to, so a
   * /dev/serial/by-id link finds the bus opened as /dev/ttyUSB0) or a TCP host:port; undefined
   * when no source holds it.
   */
  find(target: { port: string } | { host: string; port: number }): HeldBus | undefined {
    if ('host' in target) return this.buses.get(`tcp:${target.host}:${target.port}`);
    const want = devicePath(target.port);
    for (const [key, b] of this.buses) if (key.startsWith('rtu:') && devicePath(key.slice(4)) === want) return b;
    return undefined;
  }
}

/** The agent's bus registry. */
export function busRegistry(host: DriverHost): BusRegistry {
  return host.shared('modbus.buses', () => new BusRegistry());
}
