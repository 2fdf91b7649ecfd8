import { defineDriver } from '../types.js';
import { serialSchema } from './schema.js';
import { createParser } from './parsers/index.js';
import { SerialSource } from './source.js';
import { registerSerialCli } from './cli/index.js';
import { registerSerialControl } from './control.js';

export { serialSchema, type SerialConfig } from './schema.js';

/** `driver: serial`: line-oriented ASCII sensors (see README.md). */
export const serialDriver = defineDriver({
  name: 'serial',
  schema: serialSchema,
  create: (cfg, ctx) => new SerialSource(cfg, ctx, createParser(cfg.parse)),
  // regex and nmea know their points from the config; kv and json learn them from the data ([]).
  pointNames: (cfg) => [...(createParser(cfg.parse).points ?? [])],
  cli: registerSerialCli,
  control: registerSerialControl,
});
