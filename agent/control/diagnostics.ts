import type { ControlServer } from './server.js';
import type { DriverHost } from '../../drivers/types.js';
import { toolingHooks } from '../../drivers/index.js';

/**
 * Driver diagnostics on ports the daemon holds (SPEC "CLI": while the daemon runs, diagnostics on
 * its ports go through it). Each driver registers its own methods (its `control` hook, in its
 * folder); `host` is the running agent's, where the drivers find their buses and taps.
 */
export function registerDiagnostics(s: ControlServer, host: DriverHost): void {
  for (const register of toolingHooks('control')) register(s, host);
}
