import type { Config } from '../config/schema.js';
import type { LoadedConfig } from '../config/load.js';
import { formatError } from '../config/errors.js';
import { mergeRemote } from './merge.js';
import { configHash } from './signature.js';
import { asidePath, loadPersisted, persistedPath, saveFloor, setAside } from './persist.js';
import { remotePolicy } from './remote-policy.js';

/** The config a (re)start puts in force, and why. */
export interface EffectiveConfig {
  config: Config;
  /** 0 = the local file. */
  version: number;
  hash: string;
  origin: 'file' | 'remote';
  /** Where it came from: the file, or the persisted remote config. */
  source: string;
  appliedAt?: number;
  /** The topic the remote config came on. */
  topic?: string;
  /** Why a persisted remote config was not used (invalid, unreadable, remote config off), if so. */
  warning?: string;
  /** A persisted remote config that must not stay where a later start would load it. */
  setAside?: { version: number; reason: string };
}

/**
 * The local file counts as version 0; the persisted remote config (in agent.dataDir) wins when its
 * version is newer, i.e. whenever there is one that still validates and remote config is on. Its
 * local-only keys come from the file, which stays the authority for them. Read-only (`check` uses
 * it too): `run` calls applySetAside() to move a config that is set aside.
 */
export function effectiveConfig(local: LoadedConfig): EffectiveConfig {
  const fromFile: EffectiveConfig = { config: local.config, version: 0, hash: configHash(local.raw ?? {}), origin: 'file', source: local.file };
  const dataDir = local.config.agent.dataDir;
  let p;
  try {
    p = loadPersisted(dataDir);
  } catch (e) {
    return { ...fromFile, warning: `${(e as Error).message}; using the local file` };
  }
  if (!p || p.version <= 0) return fromFile;
  // Remote config turned off (or signing turned on) since this one was taken: it must not stay in
  // force, nor come back by surprise the day remote config is turned on again.
  const policy = remotePolicy(local.config);
  const offWhy = policy.mode === 'off' ? `remote config is off (${policy.note})`
    : policy.mode === 'signed' && !p.signature ? 'it was taken unsigned and control.remoteConfig.publicKey is now set' : undefined;
  if (offWhy) {
    return { ...fromFile, setAside: { version: p.version, reason: offWhy }, warning: `persisted remote config version ${p.version} not put in force: ${offWhy}; kept aside (a start moves it to ${asidePath(dataDir)}); using the local file` };
  }
  const merged = mergeRemote(p.config, local.config, local.baseDir, false);
  if (!merged.ok) {
    return { ...fromFile, warning: `persisted remote config version ${p.version} (${persistedPath(dataDir)}) no longer validates: ${merged.errors.map((e) => formatError(e)).join('; ')}; using the local file` };
  }
  return { config: merged.config, version: p.version, hash: p.hash, origin: 'remote', source: persistedPath(dataDir), appliedAt: p.appliedAt, topic: p.topic };
}

/** Move a set-aside config out of the way and keep its version as the replay floor. Throws naming the file. */
export function applySetAside(eff: EffectiveConfig, dataDir: string): void {
  if (!eff.setAside) return;
  setAside(dataDir);
  saveFloor(dataDir, { version: eff.setAside.version, why: 'set-aside' });
}
