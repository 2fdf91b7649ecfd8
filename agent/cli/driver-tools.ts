import { loadConfigFile, ConfigInvalidError } from '../config/load.js';
import { formatError } from '../config/errors.js';
import type { CliTools, SourceEntry } from '../../drivers/tooling.js';
import { CliError } from './common.js';
import { DEFAULT_SOCKET, throughDaemon } from './control-target.js';

/** What the drivers' CLI commands get from the CLI (drivers/tooling.ts): they never import agent/cli. */
export const driverCliTools: CliTools = {
  defaultSocket: DEFAULT_SOCKET,
  throughDaemon,
  loadSources(file: string): readonly SourceEntry[] {
    try {
      return loadConfigFile(file).config.sources as unknown as readonly SourceEntry[];
    } catch (e) {
      if (e instanceof ConfigInvalidError) throw new CliError(e.errors.map((x) => formatError(x, e.file)).join('\n'));
      throw e;
    }
  },
};
