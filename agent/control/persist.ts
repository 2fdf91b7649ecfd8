import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../core/atomic-write.js';

/** What survives a restart: the last applied remote config, as pushed (local-only keys not baked in). */
export interface PersistedConfig {
  version: number;
  hash: string;
  config: unknown;
  appliedAt: number;
}

export const PERSIST_FILE = 'remote-config.json';

export function persistedPath(dataDir: string): string {
  return path.join(dataDir, PERSIST_FILE);
}

export function savePersisted(dataDir: string, p: PersistedConfig): void {
  writeFileAtomic(persistedPath(dataDir), JSON.stringify(p, null, 1) + '\n');
}

/** The persisted remote config, undefined when none; throws with the file name when it is unreadable. */
export function loadPersisted(dataDir: string): PersistedConfig | undefined {
  const file = persistedPath(dataDir);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
  const p = JSON.parse(text) as PersistedConfig;
  if (!Number.isInteger(p.version) || p.version < 1 || typeof p.config !== 'object' || p.config === null) throw new Error(`${file}: not a persisted config`);
  return p;
}
