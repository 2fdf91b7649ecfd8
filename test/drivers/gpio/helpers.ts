import pino from 'pino';
import { captureContext } from '../../helpers/source-context.js';
import { GpioDriver, gpioSchema, type GpioDriverOptions } from '../../../drivers/gpio/index.js';

/** captureContext plus a logger whose JSON lines are kept (to assert what the log says). */
export function gpioContext(dataDir?: string) {
  const c = captureContext({ sourceId: 'door', dataDir });
  const logs: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void logs.push(JSON.parse(s)) });
  return { ...c, ctx: { ...c.ctx, log }, logs };
}

export function makeDriver(cfg: Record<string, unknown>, ctx: ReturnType<typeof gpioContext>['ctx'], opts?: GpioDriverOptions) {
  return new GpioDriver(gpioSchema.parse({ id: 'door', driver: 'gpio', ...cfg }), ctx, opts);
}

type PinDiag = { changes: number; open: boolean; pulses?: number; watch?: string; gpio?: number };
export function pinDiag(d: GpioDriver, name: string): PinDiag {
  return ((d.diagnostics().pins as Record<string, PinDiag>)[name]);
}
