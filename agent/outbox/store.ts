import path from 'node:path';
import Database from 'better-sqlite3';
import type { StoredBatch } from '../../core/batch.js';
import type { HeldBatch } from './held.js';
import { thinBatches } from './thin.js';
import { setup } from './format.js';
import { ensureDir, fileSize, freeBytes, fsSize } from './disk.js';

/** Fixed per-row cost added to payload bytes when enforcing buffer.maxBytes (row header, index). */
export const ROW_OVERHEAD = 48;
/** WAL pages between automatic checkpoints at most (SQLite's default is 1000); see walBudget(). */
export const WAL_AUTOCHECKPOINT_PAGES = 1000;
/** The WAL's share of buffer.maxBytes is maxBytes / 8, within these bounds. */
export const WAL_MIN_BYTES = 64 * 1024;
export const WAL_MAX_BYTES = 4 * 1024 * 1024;
/** outbox.db-shm: 32 KiB per 4096 WAL frames, and our WAL stays under 1024 frames. */
export const SHM_BYTES = 32 * 1024;
/**
 * Below this buffer.maxBytes the SQLite files alone (shm, the smallest WAL, schema pages) would
 * not fit: the cap then counts stored batches only, as before the footprint rule.
 */
export const MIN_FOOTPRINT_BYTES = 512 * 1024;
const PAGE = 4096;

/** Bytes the WAL may take before it is checkpointed and truncated: part of buffer.maxBytes. */
export function walBudget(maxBytes: number): number {
  return Math.min(WAL_MAX_BYTES, Math.max(WAL_MIN_BYTES, Math.floor(maxBytes / 8 / PAGE) * PAGE));
}

export interface Meta {
  stream?: string;
  nextSeq?: number;
  droppedOverflow: number;
  droppedThinned: number;
  droppedMemory: number;
}

/**
 * The SQLite file `{dataDir}/outbox.db`: batches keyed by seq, meta (stream, seq reservation, drop
 * counters), running totals of what is stored, and the WAL kept inside its share of the budget.
 */
export class OutboxStore {
  rows = 0;
  bytes = 0;
  readings = 0;
  private walLimit = WAL_MAX_BYTES;
  private budget = Infinity;
  private readonly stmt;

  private constructor(readonly file: string, private readonly db: Database.Database) {
    this.stmt = {
      insert: db.prepare('INSERT INTO batches (seq, n, bytes, first_ts, created, payload) VALUES (?, ?, ?, ?, ?, ?)'),
      del: db.prepare('DELETE FROM batches WHERE seq = ? RETURNING n, bytes'),
      setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      next: db.prepare('SELECT seq, n, payload FROM batches WHERE seq > ? ORDER BY seq'),
      oldest: db.prepare('SELECT seq, n, bytes FROM batches ORDER BY seq LIMIT ?'),
      delOldest: db.prepare('DELETE FROM batches WHERE seq <= ?'),
      agg: db.prepare('SELECT count(*) AS rows, coalesce(sum(bytes),0) AS bytes, coalesce(sum(n),0) AS n, min(seq) AS minKey, max(seq) AS maxKey FROM batches'),
      oldestTs: db.prepare('SELECT min(first_ts) AS t FROM batches'),
    };
    this.recount();
  }

  /** mkdir, open, set up and migrate; throws (clear message) when the data dir refuses. */
  static open(dataDir: string, maxBytes: number): OutboxStore {
    ensureDir(dataDir);
    const file = path.join(dataDir, 'outbox.db');
    const db = new Database(file);
    try {
      setup(db);
      const s = new OutboxStore(file, db);
      s.setBudget(maxBytes);
      return s;
    } catch (e) {
      db.close();
      throw e;
    }
  }

  /** The WAL's share of buffer.maxBytes: autocheckpoint and truncation follow it. */
  setBudget(maxBytes: number): void {
    // A maxBytes larger than the filesystem (the 64 MiB default on a small card) means the filesystem.
    this.budget = Math.min(maxBytes, fsSize(this.file));
    this.walLimit = walBudget(this.budget);
    if (!this.db.open) return;
    // Checkpoint copies WAL pages into the database file: every page is written twice. A larger
    // autocheckpoint lets a page rewritten by many flushes (the batches table's leaf, meta) be
    // copied once per checkpoint (agent/outbox/README.md); a small buffer.maxBytes gets a small WAL.
    this.db.pragma(`wal_autocheckpoint = ${Math.min(WAL_AUTOCHECKPOINT_PAGES, this.walLimit / PAGE)}`);
    this.db.pragma(`journal_size_limit = ${this.walLimit}`);
  }

  /**
   * Bytes stored batches may take (payload + ROW_OVERHEAD each) so that db + WAL + shm stay inside
   * maxBytes (or the filesystem, if smaller): the WAL's share and shm come off, and so does what
   * the B-tree costs beyond our accounting (partly filled pages, schema), measured from used pages.
   */
  capacity(): number {
    if (this.budget < MIN_FOOTPRINT_BYTES) return this.budget;
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    const slack = Math.max(0, (pages - free) * PAGE - this.accounted());
    // A margin (1/32 of the budget) below what diskRoom() allows: when the filesystem is the budget,
    // the overflow policy acts before the disk guard, whatever our estimates of page use miss.
    this.lastCap = Math.max(0, this.budget - this.headroom() - Math.max(2 * PAGE, this.budget / 32) - slack);
    return this.lastCap;
  }

  /** The cap computed by the last capacity() (logged with drops). */
  lastCap = 0;

  /**
   * Bytes new rows may take on the filesystem now, keeping room for the WAL: a database that fills
   * the disk can no longer delete acknowledged batches (a delete writes to the WAL) and stays stuck.
   */
  diskRoom(): number {
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    // The WAL and shm already on disk sit inside their reserve.
    const reserve = Math.max(0, this.headroom() - fileSize(`${this.file}-wal`) - fileSize(`${this.file}-shm`));
    return freeBytes(this.file) + free * PAGE - reserve;
  }

  private headroom(): number {
    return this.walLimit + SHM_BYTES;
  }

  accounted(): number {
    return this.bytes + this.rows * ROW_OVERHEAD;
  }

  readMeta(): Meta {
    const all = new Map((this.db.prepare('SELECT key, value FROM meta').all() as { key: string; value: unknown }[]).map((r) => [r.key, r.value]));
    const num = (k: string) => (typeof all.get(k) === 'number' ? (all.get(k) as number) : undefined);
    const stream = all.get('stream');
    return {
      stream: typeof stream === 'string' && stream ? stream : undefined,
      nextSeq: num('next_seq'),
      droppedOverflow: num('dropped_overflow') ?? 0,
      droppedThinned: num('dropped_thinned') ?? 0,
      droppedMemory: num('dropped_memory') ?? 0,
    };
  }

  setMeta(key: string, value: string | number): void {
    this.stmt.setMeta.run(key, value);
  }

  /** Drop counters survive restarts (written only when they changed). */
  setDrops(c: { droppedOverflow: number; droppedThinned: number; droppedMemory: number }): void {
    this.stmt.setMeta.run('dropped_overflow', c.droppedOverflow);
    this.stmt.setMeta.run('dropped_thinned', c.droppedThinned);
    this.stmt.setMeta.run('dropped_memory', c.droppedMemory);
  }

  keys(): { minKey: number | null; maxKey: number | null } {
    return this.stmt.agg.get() as { minKey: number | null; maxKey: number | null };
  }

  /**
   * Move every row's key up by `offset` (payloads untouched: they keep their own stream and seq),
   * so rows found on an outbox that opened late sort after what was sent from memory meanwhile.
   */
  rekey(offset: number): void {
    // Two steps: a one-step shift would collide with keys not yet moved.
    this.db.transaction(() => {
      this.db.prepare('UPDATE batches SET seq = -seq').run();
      this.db.prepare('UPDATE batches SET seq = ? - seq').run(offset);
    })();
  }

  transaction(fn: () => void): void {
    this.db.transaction(fn)();
  }

  insert(b: HeldBatch, created: number): void {
    this.stmt.insert.run(b.seq, b.n, b.bytes, b.firstTs, created, b.payload);
    this.rows++;
    this.bytes += b.bytes;
    this.readings += b.n;
  }

  /** Deletes an acknowledged row; false when it was not there. */
  delete(seq: number): boolean {
    const row = this.stmt.del.get(seq) as { n: number; bytes: number } | undefined;
    if (!row) return false;
    this.rows--;
    this.bytes -= row.bytes;
    this.readings -= row.n;
    return true;
  }

  /** Delete whole oldest batches until `need` more bytes fit under `cap`; calls `dropped` with their readings. */
  deleteOldest(need: number, cap: number, dropped: (n: number) => void): void {
    while (this.accounted() + need > cap && this.rows > 0) {
      const rows = this.stmt.oldest.all(Math.min(64, this.rows)) as { seq: number; n: number; bytes: number }[];
      let last = -1;
      for (const r of rows) {
        if (this.accounted() + need <= cap) break;
        last = r.seq;
        this.rows--;
        this.bytes -= r.bytes;
        this.readings -= r.n;
        dropped(r.n);
      }
      if (last < 0) break;
      this.stmt.delOldest.run(last);
    }
  }

  /** One thinning pass over the oldest half of the stored payload; returns the readings removed. */
  thin(): number {
    const r = thinBatches(this.db, Math.floor(this.bytes / 2));
    this.bytes -= r.freedBytes;
    this.readings -= r.removedReadings;
    this.rows -= r.deletedRows;
    return r.removedReadings;
  }

  /** Up to `limit` rows with key > after, oldest first, skipping `skip` (acknowledged, not yet deleted). */
  next(after: number, limit: number, skip: Set<number>, out: StoredBatch[]): void {
    // Iterate: fetching limit + acked rows with their payloads would allocate megabytes per call while a backlog drains.
    for (const b of this.stmt.next.iterate(after) as IterableIterator<StoredBatch>) {
      if (skip.has(b.seq)) continue;
      out.push(b);
      if (out.length >= limit) break;
    }
  }

  /** First reading's time of the oldest stored batch; null when empty or unreadable right now. */
  oldestTs(): number | null {
    try {
      return (this.stmt.oldestTs.get() as { t: number | null }).t;
    } catch {
      return null;
    }
  }

  /** Our running totals may be off after a failed transaction: re-read them. */
  recount(): void {
    try {
      const agg = this.stmt.agg.get() as { rows: number; bytes: number; n: number };
      this.rows = agg.rows;
      this.bytes = agg.bytes;
      this.readings = agg.n;
    } catch {
      /* keep estimates */
    }
  }

  /**
   * After a commit: keep the WAL inside its budget. A transaction larger than the autocheckpoint,
   * or a filesystem running out of room, gets a TRUNCATE checkpoint now, while copying the WAL
   * into the database still finds space (a WAL that fills the disk can never be checkpointed).
   */
  trimWal(): void {
    const wal = fileSize(`${this.file}-wal`);
    if (wal <= PAGE) return;
    if (wal > this.walLimit || freeBytes(this.file) < 2 * wal) this.checkpoint();
  }

  /** Best effort: copy the WAL into the database and truncate it (frees space after SQLITE_FULL). */
  checkpoint(): void {
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      /* no room even for that: retried after the next failure */
    }
  }

  /** db + WAL + shm on disk. */
  fileBytes(): number {
    return fileSize(this.file) + fileSize(`${this.file}-wal`) + fileSize(`${this.file}-shm`);
  }

  close(): void {
    this.db.close();
  }
}

