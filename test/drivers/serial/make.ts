import { serialSchema, type SerialConfig } from '../../../drivers/serial/index.js';
import { serialDriver } from '../../../drivers/serial/index.js';
import { captureContext } from '../../helpers/source-context.js';

/** A validated serial source config (through the real schema, as the loader would). */
export function serialConfig(extra: Record<string, unknown>): SerialConfig {
  return serialSchema.parse({ id: 'dev', driver: 'serial', ...extra });
}

/** The driver as the runtime creates it, with a recording context. */
export function startSource(extra: Record<string, unknown>) {
  const cap = captureContext({ sourceId: 'dev' });
  const driver = serialDriver.create(serialConfig(extra), cap.ctx);
  return { ...cap, driver, count: (kind: string) => cap.errors.filter((e) => e.kind === kind).length };
}
