import type { Config } from '../config/schema.js';

/** How this board takes pushes: verified against a key, unsigned (lab only), or not at all. */
export type RemoteMode = 'signed' | 'unsigned' | 'off';

export interface RemotePolicy {
  mode: RemoteMode;
  /** Why it is off, or the warning that goes with `unsigned`. */
  note?: string;
  groups: string[];
}

/**
 * SPEC "Remote config": off unless `publicKey` is set, or `allowUnsigned: true` in the local file.
 * With a key every push must verify (allowUnsigned then has no effect). `enabled: false` turns
 * remote config off whatever else is set. The local file is the only authority here: `control.*`
 * is local-only, a push cannot change it.
 */
export function remotePolicy(config: Config): RemotePolicy {
  const rc = config.control.remoteConfig;
  const groups = [...rc.groups];
  if (!rc.enabled) return { mode: 'off', note: 'control.remoteConfig.enabled is false', groups };
  if (rc.publicKey) return { mode: 'signed', groups };
  if (rc.allowUnsigned) return { mode: 'unsigned', note: 'control.remoteConfig.allowUnsigned is true: anyone who can publish on the broker can replace this config (lab only; set publicKey)', groups };
  return { mode: 'off', note: 'control.remoteConfig.publicKey is not set (and allowUnsigned is not true)', groups };
}

/** Topics a board takes pushes on: its own, and one per group (same envelope, one version space). */
export function pushTopics(config: Config, ownTopic: string): string[] {
  const prefix = config.uplink.mqtt.topicPrefix;
  const group = (g: string) => (prefix ? `${prefix}/groups/${g}/config/set` : `groups/${g}/config/set`);
  return [ownTopic, ...config.control.remoteConfig.groups.map(group)];
}
