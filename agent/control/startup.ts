import type { Config } from '../config/schema.js';
import type { LoadedConfig } from '../config/load.js';
import { formatError } from '../config/errors.js';
import { mergeRemote } from './merge.js';
import { configHash } from './signature.js';
import { loadPersisted, persistedPath } from './persist.js';

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
  /** Why a persisted remote config was not used (invalid, unreadable), if so. */
  warning?: string;
}

/**
 * The local file counts as version 0; the persisted remote config (in agent.dataDir) wins when its
 * version is newer, i.e. whenever there is one that still validates. Its local-only keys come
 * from the file, which stays the authority for them.
 */
export function effectiveConfig(local: LoadedConfig): EffectiveConfig {
  const fromFile: EffectiveConfig = { config: local.config, version: 0, hash: configHash(local.raw ?? {}), origin: 'file', source: local.file };
  let p;
  try {
    p = loadPersisted(local.config.agent.dataDir);
  } catch (e) {
    return { ...fromFile, warning: `${(e as Error).message}; using the local file` };
  }
  if (!p || p.version <= 0) return fromFile;
  const merged = mergeRemote(p.config, local.config, local.baseDir, false);
  if (!merged.ok) {
    return { ...fromFile, warning: `persisted remote config version ${p.version} (${persistedPath(local.config.agent.dataDir)}) no longer validates: ${merged.errors.map((e) => formatError(e)).join('; ')}; using the local file` };
  }
  return { config: merged.config, version: p.version, hash: p.hash, origin: 'remote', source: persistedPath(local.config.agent.dataDir), appliedAt: p.appliedAt };
}
