import type { Config } from '../config/schema.js';

/** The config as `config show` prints it: an inline MQTT password never leaves the daemon (SPEC: secrets never appear in state). */
export function redactConfig(config: Config): Config {
  const m = config.uplink.mqtt;
  if (m.password === undefined) return config;
  return { ...config, uplink: { ...config.uplink, mqtt: { ...m, password: '[redacted]' } } };
}
