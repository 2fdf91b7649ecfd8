import fs from 'node:fs';
import path from 'node:path';

/** An fs or SQLite error as one line: Node's fs messages already start with their code ("EACCES: ..."), SQLite's do not. */
export function errorLine(e: Error & { code?: string }): string {
  return e.code && !e.message.startsWith(e.code) ? `${e.code}: ${e.message}` : e.message;
}

/** Filesystem facts the outbox needs: sizes, free space, the data dir, and what an error means to an operator. */

export function fileSize(f: string): number {
  try {
    return fs.statSync(f).size;
  } catch {
    return 0;
  }
}

export function freeBytes(f: string): number {
  try {
    const s = fs.statfsSync(path.dirname(f));
    return s.bavail * s.bsize;
  } catch {
    return Infinity;
  }
}

/** Size of the filesystem holding `f` (Infinity when unknown). */
export function fsSize(f: string): number {
  try {
    const s = fs.statfsSync(path.dirname(f));
    return s.blocks * s.bsize;
  } catch {
    return Infinity;
  }
}

/** mkdir -p, but with the real cause: Node 20's recursive mkdir says ENOENT where the parent is read-only. */
export function ensureDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || !fs.existsSync(path.dirname(dir))) throw e;
    fs.mkdirSync(dir); // throws EROFS / EACCES if that is the cause
  }
}

/** What an operator should look at for a given SQLite/fs error. */
export function hint(msg: string, dir?: string): string {
  if (/FULL|ENOSPC|disk is full/i.test(msg)) return "the data dir's filesystem is full";
  if (/READONLY|EROFS|read-only|EACCES|EPERM|permission/i.test(msg)) return 'the data dir is read-only or not writable by this user';
  if (/EEXIST|ENOTDIR|not a directory/i.test(msg)) return 'agent.dataDir is not a directory';
  // SQLite says CANTOPEN both for a missing dir and for one this user may not write in.
  if (/CANTOPEN|ENOENT/i.test(msg)) return dir !== undefined && fs.existsSync(dir) ? 'the data dir exists but this user cannot create files in it: check its owner and mode' : 'the data dir does not exist and cannot be created';
  if (/IOERR|EIO/i.test(msg)) return 'I/O error: the storage may be failing';
  if (/CORRUPT|NOTADB/i.test(msg)) return 'the outbox file is damaged; move it aside to start a fresh one';
  return 'check agent.dataDir';
}
