import type { Logger } from '../../core/log.js';
import type { Config } from '../config/schema.js';
import { loadConfigFile, ConfigInvalidError, type LoadedConfig } from '../config/load.js';
import { formatError } from '../config/errors.js';

export type LocalLoad = { ok: true; loaded: LoadedConfig } | { ok: false; errors: string[] };

/**
 * The local file again (SIGHUP, `config.reload`, `config revert`), with the `--mqtt-url` override.
 * Errors name the key and `file:line:col`; keys only a restart can change are errors too.
 */
export function reloadLocal(file: string, running: Config, log: Logger, mqttUrlOverride?: string): LocalLoad {
  let loaded: LoadedConfig;
  try {
    loaded = loadConfigFile(file);
  } catch (e) {
    if (!(e instanceof ConfigInvalidError)) throw e;
    return { ok: false, errors: e.errors.map((x) => formatError(x, e.file)) };
  }
  if (mqttUrlOverride) loaded.config.uplink.mqtt.url = mqttUrlOverride;
  const restart: string[] = [];
  if (loaded.config.agent.dataDir !== running.agent.dataDir) restart.push('agent.dataDir');
  if (loaded.config.agent.id !== running.agent.id) restart.push('agent.id');
  if (restart.length) return { ok: false, errors: restart.map((k) => `${k}: changed in ${loaded.file}; this takes a restart`) };
  if (loaded.config.control.socket !== running.control.socket || loaded.config.control.metrics?.listen !== running.control.metrics?.listen) {
    log.warn('control.socket / control.metrics changed: they take effect after a restart');
  }
  return { ok: true, loaded };
}
