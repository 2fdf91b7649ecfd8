import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../core/atomic-write.js';

/** What survives a restart: the last applied remote config, as pushed (local-only keys not baked in). */
export interface PersistedConfig {
  version: number;
  hash: string;
  config: unknown;
  appliedAt: number;
  /** The push's signature, when it had one (a config taken unsigned is set aside once a key is set). */
  signature?: string;
  /** The topic it came on (the board's own, or a group's). */
  topic?: string;
}

export const PERSIST_FILE = 'remote-config.json';
/** A remote config no longer in force (reverted, or remote config turned off): kept for the operator, never loaded. */
export const ASIDE_FILE = 'remote-config.aside.json';
/** The highest version this board has taken, rolled back or put aside: a replay of it is refused, across restarts. */
export const FLOOR_FILE = 'remote-config.floor.json';

export function persistedPath(dataDir: string): string {
  return path.join(dataDir, PERSIST_FILE);
}

export function asidePath(dataDir: string): string {
  return path.join(dataDir, ASIDE_FILE);
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
  let p: PersistedConfig;
  try {
    p = JSON.parse(text) as PersistedConfig;
  } catch (e) {
    throw new Error(`${file}: not JSON: ${(e as Error).message}`);
  }
  if (!Number.isInteger(p.version) || p.version < 1 || typeof p.config !== 'object' || p.config === null) throw new Error(`${file}: not a persisted config`);
  return p;
}

/** Move the persisted remote config aside (replacing an older one there); returns where, or undefined if there was none. */
export function setAside(dataDir: string): string | undefined {
  const to = asidePath(dataDir);
  try {
    fs.renameSync(persistedPath(dataDir), to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot move ${persistedPath(dataDir)} aside: ${(e as Error).message}`);
  }
  return to;
}

export type FloorReason = 'rolled-back' | 'reverted' | 'set-aside';
export interface VersionFloor {
  version: number;
  why: FloorReason;
}

export function loadFloor(dataDir: string): VersionFloor | undefined {
  try {
    const f = JSON.parse(fs.readFileSync(path.join(dataDir, FLOOR_FILE), 'utf8')) as VersionFloor;
    return Number.isSafeInteger(f.version) && f.version > 0 ? f : undefined;
  } catch {
    return undefined; // absent or unreadable: the running and persisted versions still guard
  }
}

/** Raise the floor (never lowers it). */
export function saveFloor(dataDir: string, floor: VersionFloor): void {
  const cur = loadFloor(dataDir);
  if (cur && cur.version >= floor.version) return;
  writeFileAtomic(path.join(dataDir, FLOOR_FILE), JSON.stringify(floor) + '\n');
}
