import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

/**
 * SPEC "Operation": one daemon per data directory.
 *
 * The lock is a POSIX record lock (fcntl F_SETLK) on `<dataDir>/agent.lock`, taken through
 * SQLite, which we already ship: a connection in `locking_mode=EXCLUSIVE` that has written once
 * keeps the file's exclusive lock until it closes. The kernel drops a record lock when its
 * process dies, so SIGKILL, an OOM kill or a power cut never leave a lock behind and nobody
 * has to clean up; no pid guessing either (a pid file with stale-pid detection is fooled by pid
 * reuse after a reboot, and needs an atomic take-over dance). The holder's pid is written to
 * `agent.pid` beside it, only to name it in the refusal.
 */
export class DataDirLock {
  private constructor(private readonly db: Database.Database, readonly file: string, private readonly pidFile: string) {}

  /** Takes the lock or throws DataDirBusyError (another daemon) / Error (cannot create it). */
  static acquire(dataDir: string): DataDirLock {
    fs.mkdirSync(dataDir, { recursive: true });
    const file = path.join(dataDir, 'agent.lock');
    const pidFile = path.join(dataDir, 'agent.pid');
    const db = new Database(file, { timeout: 0 });
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      // The first write takes the EXCLUSIVE lock, and locking_mode keeps it after the commit.
      db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER)');
      db.exec('BEGIN IMMEDIATE; DELETE FROM holder; COMMIT');
    } catch (e) {
      db.close();
      if ((e as { code?: string }).code === 'SQLITE_BUSY') throw new DataDirBusyError(dataDir, readPid(pidFile));
      throw e;
    }
    try {
      fs.writeFileSync(`${pidFile}.tmp`, `${process.pid}\n`);
      fs.renameSync(`${pidFile}.tmp`, pidFile);
    } catch {
      /* the pid only names the holder in a refusal; the lock itself is what counts */
    }
    return new DataDirLock(db, file, pidFile);
  }

  release(): void {
    try {
      if (readPid(this.pidFile) === process.pid) fs.unlinkSync(this.pidFile);
    } catch {
      /* already gone */
    }
    this.db.close();
  }
}

export class DataDirBusyError extends Error {
  constructor(readonly dataDir: string, readonly holderPid: number | undefined) {
    super(`agent.dataDir ${dataDir} is in use by another edge-agent (pid ${holderPid ?? 'unknown'}): one daemon per data dir; stop that one or give this one its own agent.dataDir`);
  }
}

function readPid(file: string): number | undefined {
  try {
    const n = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}
