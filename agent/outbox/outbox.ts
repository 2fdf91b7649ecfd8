import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../log.js';
import type { Reading } from '../reading.js';
import { BatchEncoder } from './encode.js';
import { thinBatches } from './thin.js';

export type OverflowPolicy = 'drop-oldest' | 'drop-newest' | 'thin';

export interface OutboxOptions {
  agentId: string;
  dataDir: string;
  maxBytes: number;
  overflow: OverflowPolicy;
  batch: { maxReadings: number; maxBytes: number };
  /** Readings held in memory while the disk refuses writes (disk full, read-only). */
  memoryLimitBytes?: number;
  log: Logger;
  now?: () => number;
}

export interface StoredBatch {
  seq: number;
  n: number;
  payload: Buffer;
}

export interface OutboxCounters {
  readingsIn: number;
  readingsStored: number;
  readingsSent: number;
  batchesStored: number;
  batchesAcked: number;
  droppedOverflow: number;
  droppedThinned: number;
  droppedMemory: number;
  writeErrors: number;
}

/** Fixed per-row cost added to payload bytes when enforcing buffer.maxBytes (row header, index). */
export const ROW_OVERHEAD = 48;

/**
 * The SQLite outbox: the one queue between pipelines and the uplink.
 *
 * Readings are encoded once, on arrival, into JSON fragments held in memory; `flush()` cuts them
 * into batches (seq assigned here, so a resent batch keeps its seq) and writes them, the seq
 * counter and the deletions of acknowledged batches in ONE transaction: one commit per flush
 * interval spares the SD card. A batch row is deleted only after the broker acknowledged it.
 */
export class Outbox {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly enc: BatchEncoder;
  private readonly now: () => number;
  private pending: string[] = [];
  private pendingBytes = 0;
  /** Batches cut but not yet on disk (kept here while the disk refuses writes). */
  private unsaved: { seq: number; n: number; ts: number; firstTs: number; payload: string; bytes: number }[] = [];
  private unsavedBytes = 0;
  private acked: number[] = [];
  private nextSeq: number;
  private storedBytes: number;
  private storedRows: number;
  private storedReadings: number;
  private firstTsPending = 0;
  private lastWriteError = '';
  readonly counters: OutboxCounters;
  /** Monotonic-ish progress marker for the watchdog: wall ms of the last flush attempt that finished. */
  lastFlushAt = 0;

  private readonly stmt: {
    insert: Database.Statement;
    del: Database.Statement;
    setMeta: Database.Statement;
    next: Database.Statement;
    oldest: Database.Statement;
    delOldest: Database.Statement;
  };

  constructor(private readonly opts: OutboxOptions) {
    fs.mkdirSync(opts.dataDir, { recursive: true });
    this.file = path.join(opts.dataDir, 'outbox.db');
    this.now = opts.now ?? Date.now;
    this.db = new Database(this.file);
    // WAL: readers never block the writer and a torn write cannot corrupt the database.
    this.db.pragma('journal_mode = WAL');
    // FULL, not NORMAL: in WAL mode NORMAL skips the fsync at commit, so a power cut could lose
    // commits older than flushInterval. FULL costs one fsync per flush interval, not per reading.
    this.db.pragma('synchronous = FULL');
    // Bound the WAL file after checkpoints so it does not eat the card after a burst.
    this.db.pragma('journal_size_limit = 4194304');
    this.db.exec(`
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
    const get = (k: string) => (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(k) as { value: number } | undefined)?.value;
    const maxSeq = (this.db.prepare('SELECT max(seq) AS m FROM batches').get() as { m: number | null }).m ?? 0;
    this.nextSeq = Math.max(get('next_seq') ?? 1, maxSeq + 1);
    const agg = this.db.prepare('SELECT count(*) AS rows, coalesce(sum(bytes),0) AS bytes, coalesce(sum(n),0) AS n FROM batches').get() as { rows: number; bytes: number; n: number };
    this.storedRows = agg.rows;
    this.storedBytes = agg.bytes;
    this.storedReadings = agg.n;
    this.counters = {
      readingsIn: 0, readingsStored: 0, readingsSent: 0, batchesStored: 0, batchesAcked: 0,
      droppedOverflow: get('dropped_overflow') ?? 0, droppedThinned: get('dropped_thinned') ?? 0,
      droppedMemory: get('dropped_memory') ?? 0, writeErrors: 0,
    };
    this.stmt = {
      insert: this.db.prepare('INSERT INTO batches (seq, n, bytes, first_ts, created, payload) VALUES (?, ?, ?, ?, ?, ?)'),
      del: this.db.prepare('DELETE FROM batches WHERE seq = ? RETURNING n, bytes'),
      setMeta: this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      next: this.db.prepare('SELECT seq, n, payload FROM batches WHERE seq > ? ORDER BY seq LIMIT ?'),
      oldest: this.db.prepare('SELECT seq, n, bytes FROM batches ORDER BY seq LIMIT ?'),
      delOldest: this.db.prepare('DELETE FROM batches WHERE seq <= ?'),
    };
    this.enc = new BatchEncoder(opts.agentId);
    this.encoder = this.enc;
  }

  /** Exposed for `thin` and tests. */
  readonly encoder: BatchEncoder;

  /** Hot path: encode once and hold until the next flush. */
  add(r: Reading): void {
    const f = this.enc.reading(r);
    if (this.pending.length === 0) this.firstTsPending = r.ts;
    this.pending.push(f);
    this.pendingBytes += typeof r.value === 'string' ? Buffer.byteLength(f) : f.length;
    this.counters.readingsIn++;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** Cut pending readings into batches and commit them with the acknowledged deletions. */
  flush(): void {
    this.cutBatches();
    if (this.unsaved.length === 0 && this.acked.length === 0) {
      this.lastFlushAt = this.now();
      return;
    }
    const batches = this.unsaved;
    const acked = this.acked;
    try {
      this.db.transaction(() => {
        for (const seq of acked) {
          const row = this.stmt.del.get(seq) as { n: number; bytes: number } | undefined;
          if (row) {
            this.storedRows--;
            this.storedBytes -= row.bytes;
            this.storedReadings -= row.n;
          }
        }
        this.admit(batches);
        this.stmt.setMeta.run('next_seq', this.nextSeq);
        this.stmt.setMeta.run('dropped_overflow', this.counters.droppedOverflow);
        this.stmt.setMeta.run('dropped_thinned', this.counters.droppedThinned);
        this.stmt.setMeta.run('dropped_memory', this.counters.droppedMemory);
      })();
      this.unsaved = [];
      this.unsavedBytes = 0;
      this.acked = [];
      if (this.lastWriteError) {
        this.opts.log.info({ outbox: this.file }, 'outbox writes work again; held readings are now on disk');
        this.lastWriteError = '';
      }
    } catch (e) {
      // Disk full, read-only filesystem, I/O error: keep what we have in memory (bounded), retry next flush.
      this.counters.writeErrors++;
      this.recount();
      const msg = (e as Error).message;
      if (msg !== this.lastWriteError) {
        this.opts.log.error({ outbox: this.file, err: msg, held: this.unsaved.length }, 'outbox write failed; holding readings in memory and retrying each flush');
        this.lastWriteError = msg;
      }
      this.boundMemory();
    }
    this.lastFlushAt = this.now();
  }

  /** After a failed transaction our running totals may be off: re-read them. */
  private recount(): void {
    try {
      const agg = this.db.prepare('SELECT count(*) AS rows, coalesce(sum(bytes),0) AS bytes, coalesce(sum(n),0) AS n FROM batches').get() as { rows: number; bytes: number; n: number };
      this.storedRows = agg.rows;
      this.storedBytes = agg.bytes;
      this.storedReadings = agg.n;
    } catch {
      /* keep estimates */
    }
  }

  private cutBatches(): void {
    const p = this.pending;
    if (p.length === 0) return;
    const ts = this.now();
    const { maxReadings, maxBytes } = this.opts.batch;
    let from = 0;
    let bytes = 0;
    for (let i = 0; i <= p.length; i++) {
      const fb = i < p.length ? p[i].length + 1 : 0;
      const full = i - from >= maxReadings || (i > from && bytes + fb + 64 > maxBytes);
      if (i === p.length || full) {
        if (i > from) {
          const seq = this.nextSeq++;
          const payload = this.enc.batch(seq, ts, p, from, i);
          const b = Buffer.byteLength(payload);
          this.unsaved.push({ seq, n: i - from, ts, firstTs: this.firstTsPending, payload, bytes: b });
          this.unsavedBytes += b;
        }
        from = i;
        bytes = 0;
      }
      bytes += fb;
    }
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Insert new batches, applying the overflow policy against buffer.maxBytes. Inside a transaction. */
  private admit(batches: typeof this.unsaved): void {
    const cap = this.opts.maxBytes;
    const created = this.now();
    for (const b of batches) {
      const need = b.bytes + ROW_OVERHEAD;
      if (this.storedBytes + this.storedRows * ROW_OVERHEAD + need > cap) {
        if (this.opts.overflow === 'drop-newest') {
          this.dropped('overflow', b.n);
          continue;
        }
        this.makeRoom(need);
        if (this.storedBytes + this.storedRows * ROW_OVERHEAD + need > cap) {
          // A single batch larger than the whole cap: nothing else to drop.
          this.dropped('overflow', b.n);
          continue;
        }
      }
      this.stmt.insert.run(b.seq, b.n, b.bytes, b.firstTs, created, b.payload);
      this.storedRows++;
      this.storedBytes += b.bytes;
      this.storedReadings += b.n;
      this.counters.batchesStored++;
      this.counters.readingsStored += b.n;
    }
  }

  /** Free at least `need` bytes under the cap: drop-oldest deletes whole oldest batches; thin halves the oldest half first. */
  private makeRoom(need: number): void {
    const cap = this.opts.maxBytes;
    const used = () => this.storedBytes + this.storedRows * ROW_OVERHEAD;
    if (this.opts.overflow === 'thin') {
      for (let pass = 0; pass < 8 && used() + need > cap; pass++) {
        const r = thinBatches(this.db, this.enc, Math.floor(this.storedBytes / 2));
        if (r.removedReadings === 0) break;
        this.storedBytes -= r.freedBytes;
        this.storedReadings -= r.removedReadings;
        this.storedRows -= r.deletedRows;
        this.dropped('thinned', r.removedReadings);
      }
    }
    while (used() + need > cap && this.storedRows > 0) {
      const rows = this.stmt.oldest.all(Math.min(64, this.storedRows)) as { seq: number; n: number; bytes: number }[];
      let last = -1;
      for (const r of rows) {
        if (used() + need <= cap) break;
        last = r.seq;
        this.storedRows--;
        this.storedBytes -= r.bytes;
        this.storedReadings -= r.n;
        this.dropped('overflow', r.n);
      }
      if (last < 0) break;
      this.stmt.delOldest.run(last);
    }
  }

  private lastDropLog = 0;
  private dropsSinceLog = 0;
  private dropped(kind: 'overflow' | 'thinned' | 'memory', n: number): void {
    if (kind === 'overflow') this.counters.droppedOverflow += n;
    else if (kind === 'thinned') this.counters.droppedThinned += n;
    else this.counters.droppedMemory += n;
    this.dropsSinceLog += n;
    const t = this.now();
    // Rate-limited: one line per 30 s while dropping, with the count since the last line.
    if (t - this.lastDropLog >= 30_000) {
      this.opts.log.warn({ dropped: this.dropsSinceLog, reason: kind, policy: this.opts.overflow, capBytes: this.opts.maxBytes }, 'outbox full: readings dropped');
      this.lastDropLog = t;
      this.dropsSinceLog = 0;
    }
  }

  private boundMemory(): void {
    const limit = this.opts.memoryLimitBytes ?? 16 * 1024 * 1024;
    while (this.unsavedBytes > limit && this.unsaved.length > 1) {
      const b = this.unsaved.shift()!;
      this.unsavedBytes -= b.bytes;
      this.dropped('memory', b.n);
    }
  }

  /** Up to `limit` stored batches with seq > afterSeq, oldest first. */
  next(afterSeq: number, limit: number): StoredBatch[] {
    return this.stmt.next.all(afterSeq, limit) as StoredBatch[];
  }

  /** The broker acknowledged this batch: it is deleted with the next flush. */
  ack(seq: number, n: number): void {
    this.acked.push(seq);
    this.counters.batchesAcked++;
    this.counters.readingsSent += n;
  }

  /** Config swap: new cap, overflow policy and batch limits apply from the next flush. */
  setLimits(l: Pick<OutboxOptions, 'maxBytes' | 'overflow' | 'batch'>): void {
    this.opts.maxBytes = l.maxBytes;
    this.opts.overflow = l.overflow;
    this.opts.batch = l.batch;
  }

  stats() {
    let fileBytes = 0;
    for (const f of [this.file, `${this.file}-wal`]) {
      try {
        fileBytes += fs.statSync(f).size;
      } catch {
        /* absent */
      }
    }
    const oldest = this.db.prepare('SELECT min(first_ts) AS t FROM batches').get() as { t: number | null };
    return {
      file: this.file,
      rows: this.storedRows,
      readings: this.storedReadings,
      payloadBytes: this.storedBytes,
      fileBytes,
      capBytes: this.opts.maxBytes,
      overflow: this.opts.overflow,
      oldestTs: oldest.t,
      pendingReadings: this.pending.length,
      heldBatches: this.unsaved.length,
      nextSeq: this.nextSeq,
      ...this.counters,
    };
  }

  close(): void {
    try {
      this.flush();
    } finally {
      this.db.close();
    }
  }
}
