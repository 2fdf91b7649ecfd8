import type Database from 'better-sqlite3';

/** On-disk format of outbox.db (PRAGMA user_version); bump with a migration in open(). */
export const OUTBOX_FORMAT = 1;

/** Pragmas, tables and the format check of a freshly opened outbox.db. */
export function setup(db: Database.Database): void {
  // WAL: a commit appends to the -wal file; the database file is only rewritten by checkpoints,
  // so a torn write (power cut) can never corrupt committed data.
  db.pragma('journal_mode = WAL');
  // FULL, not NORMAL: in WAL mode NORMAL does not fsync the WAL at commit, so after a power cut
  // the last commits (more than flushInterval of readings) could be gone (the file would still
  // be consistent). FULL fsyncs once per commit, and we commit once per flush interval, not per reading.
  db.pragma('synchronous = FULL');
  // better-sqlite3 defaults to a 16 MiB page cache; the outbox is written and read front to
  // back, so a small cache costs nothing and keeps RSS flat while a backlog drains.
  db.pragma('cache_size = -2048');
  // The file format is numbered (SQLite user_version) so an upgraded agent can migrate an old
  // backlog and a downgraded one refuses a newer file instead of misreading or rewriting it.
  // 0 = written before formats were numbered: the same tables as format 1.
  const format = db.pragma('user_version', { simple: true }) as number;
  if (format > OUTBOX_FORMAT) {
    throw new Error(`outbox format ${format} was written by a newer edge-agent (this one reads format ${OUTBOX_FORMAT}); the file is left untouched: upgrade edge-agent again, or move the file away to start a new outbox`);
  }
  // meta.value holds integers, and the stream id as text (meta is not a STRICT table).
  db.exec(`
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS batches (
      seq INTEGER PRIMARY KEY,
      n INTEGER NOT NULL,
      bytes INTEGER NOT NULL,
      first_ts INTEGER NOT NULL,
      created INTEGER NOT NULL,
      thinned INTEGER NOT NULL DEFAULT 0,
      payload BLOB NOT NULL
    );
  `);
  if (format < OUTBOX_FORMAT) db.pragma(`user_version = ${OUTBOX_FORMAT}`);
}
