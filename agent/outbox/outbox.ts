import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import type { Logger } from '../../core/log.js';
import type { StoredBatch, BatchSource } from '../../core/batch.js';
import type { Reading } from '../../core/reading.js';
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
  /**
   * Write a batch only if the broker has not acknowledged it by the next flush: on a healthy link
   * nothing but the occasional seq reservation reaches the SD card. The caller must then flush at
   * half the loss bound (a batch is written at most two flushes after its first reading).
   */
  deferWrites?: boolean;
  log: Logger;
  now?: () => number;
}

export type { StoredBatch } from '../../core/batch.js';

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

/** WAL pages between automatic checkpoints (SQLite's default is 1000); see setup(). */
export const WAL_AUTOCHECKPOINT_PAGES = 1000;
/** Size the WAL file is truncated back to after a checkpoint. */
export const JOURNAL_SIZE_LIMIT = 4 * 1024 * 1024;
/** How often a data dir that could not be opened is tried again. */
const REOPEN_INTERVAL_MS = 5000;
/** Default for buffer.memoryMaxBytes: readings held in RAM while the disk refuses writes. */
export const DEFAULT_MEMORY_LIMIT = 16 * 1024 * 1024;

/** Seqs reserved per write of meta.next_seq: a restart skips at most this many (gaps are harmless). */
export const SEQ_RESERVE = 10_000;

interface HeldBatch { seq: number; n: number; ts: number; firstTs: number; payload: string; bytes: number; tick: number }

/**
 * The SQLite outbox: the one queue between pipelines and the uplink.
 *
 * Readings are encoded once, on arrival, into JSON fragments held in memory; `flush()` cuts them
 * into batches (seq assigned here, so a resent batch keeps its seq) and writes them, the seq
 * reservation and the deletions of acknowledged batches in ONE transaction: one commit per flush
 * spares the SD card. With deferWrites a batch the broker acknowledges before the next flush is
 * never written at all. A stored batch is deleted only after the broker acknowledged it.
 * The uplink reads stored batches, then the ones held in memory, oldest first (`next`).
 */
/** On-disk format of outbox.db (PRAGMA user_version); bump with a migration in setup(). */
export const OUTBOX_FORMAT = 1;

/** Pending fragment bytes that trigger an early cut into batches (see add()). */
const PENDING_CUT_BYTES = 1024 * 1024;

export class Outbox implements BatchSource {
  readonly file: string;
  /** Undefined while the data dir cannot be opened (then everything lives in `unsaved`). */
  private db: Database.Database | undefined;
  private readonly enc: BatchEncoder;
  private readonly now: () => number;
  private pending: string[] = [];
  private pendingBytes = 0;
  /**
   * Batches cut but not yet on disk: normally for the few microseconds of a flush, but while the
   * disk refuses writes they wait here (bounded by memoryLimitBytes) and the uplink sends them
   * from here, so a broken SD card does not stop data reaching the broker.
   */
  private unsaved: HeldBatch[] = [];
  private unsavedBytes = 0;
  /** Stored batches acknowledged by the broker, deleted at the next flush. */
  private acked: number[] = [];
  private readonly ackedSet = new Set<number>();
  /** Seqs of held batches renumbered when the database came back: their old acks mean nothing. */
  private readonly renumbered = new Set<number>();
  private nextSeq: number;
  private storedBytes: number;
  private storedRows: number;
  private storedReadings: number;
  private firstTsPending = 0;
  private lastWriteError = '';
  private lastOpenAttempt = 0;
  /** Flush counter: a batch cut at tick t is due for the disk at tick t + 1 (deferWrites). */
  private tick = 0;
  /** meta.next_seq as on disk: every seq below it may have been handed out. */
  private persistedNext = 0;
  /** Drop counters as on disk: meta is written only when they change. */
  private persistedDrops = '';
  /** Seqs at or above this were handed out above the wall-clock floor (see flush's failure path). */
  private clockFloor = Infinity;
  /** drop-newest is dropping: stays set until acknowledged batches are deleted. */
  private refusingNew = false;
  readonly counters: OutboxCounters;
  /** Monotonic-ish progress marker for the watchdog: wall ms of the last flush attempt that finished. */

  private stmt!: {
    insert: Database.Statement;
    del: Database.Statement;
    setMeta: Database.Statement;
    next: Database.Statement;
    oldest: Database.Statement;
    delOldest: Database.Statement;
    agg: Database.Statement;
    oldestTs: Database.Statement;
  };

  constructor(private readonly opts: OutboxOptions) {
    this.file = path.join(opts.dataDir, 'outbox.db');
    this.now = opts.now ?? Date.now;
    this.enc = new BatchEncoder(opts.agentId);
    this.counters = {
      readingsIn: 0, readingsStored: 0, readingsSent: 0, batchesStored: 0, batchesAcked: 0,
      droppedOverflow: 0, droppedThinned: 0, droppedMemory: 0, writeErrors: 0,
    };
    this.nextSeq = 1;
    this.storedBytes = 0;
    this.storedRows = 0;
    this.storedReadings = 0;
    // A data dir that cannot be opened (read-only, full, missing mount) must not stop the daemon:
    // readings are then held in a bounded memory queue, sent from there, and the open is retried.
    this.tryOpen();
  }

  /** Opens (or re-opens) the database; false, logged once per distinct cause, when it cannot. */
  private tryOpen(): boolean {
    this.lastOpenAttempt = performance.now();
    let db: Database.Database | undefined;
    try {
      ensureDir(this.opts.dataDir);
      db = new Database(this.file);
      this.setup(db);
      this.db = db;
      if (this.lastWriteError) this.opts.log.info({ outbox: this.file }, 'outbox opened');
      return true;
    } catch (e) {
      try {
        db?.close();
      } catch {
        /* already broken */
      }
      this.db = undefined;
      this.writeFailed(e as Error, 'cannot open the outbox');
      return false;
    }
  }

  private setup(db: Database.Database): void {
    // WAL: a commit appends to the -wal file; the database file is only rewritten by checkpoints,
    // so a torn write (power cut) can never corrupt committed data.
    db.pragma('journal_mode = WAL');
    // FULL, not NORMAL: in WAL mode NORMAL does not fsync the WAL at commit, so after a power cut
    // the last commits (more than flushInterval of readings) could be gone (the file would still
    // be consistent). FULL fsyncs once per commit, and we commit once per flush interval, not per reading.
    db.pragma('synchronous = FULL');
    // Checkpoint copies WAL pages into the database file: every page is written twice. A larger
    // autocheckpoint lets a page rewritten by many flushes (the batches table's leaf, meta) be
    // copied once per checkpoint; measured in agent/outbox/README.md. The WAL file is truncated back
    // to journal_size_limit after a checkpoint so a burst does not keep eating the card.
    db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
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
    const get = (k: string) => (db.prepare('SELECT value FROM meta WHERE key = ?').get(k) as { value: number } | undefined)?.value;
    const maxSeq = (db.prepare('SELECT max(seq) AS m FROM batches').get() as { m: number | null }).m ?? 0;
    // Batches cut while the disk was away already own seqs: never hand one out twice.
    this.persistedNext = get('next_seq') ?? 0;
    this.nextSeq = Math.max(this.nextSeq, this.persistedNext || 1, maxSeq + 1);
    // (Only when the outbox could not be opened at start AND the wall clock was behind its seqs.)
    for (const b of this.unsaved) if (b.seq <= maxSeq) this.renumber(b, this.nextSeq++);
    const c = this.counters;
    c.droppedOverflow = Math.max(c.droppedOverflow, get('dropped_overflow') ?? 0);
    c.droppedThinned = Math.max(c.droppedThinned, get('dropped_thinned') ?? 0);
    c.droppedMemory = Math.max(c.droppedMemory, get('dropped_memory') ?? 0);
    this.persistedDrops = `${get('dropped_overflow') ?? 0}/${get('dropped_thinned') ?? 0}/${get('dropped_memory') ?? 0}`;
    this.stmt = {
      insert: db.prepare('INSERT INTO batches (seq, n, bytes, first_ts, created, payload) VALUES (?, ?, ?, ?, ?, ?)'),
      del: db.prepare('DELETE FROM batches WHERE seq = ? RETURNING n, bytes'),
      setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      next: db.prepare('SELECT seq, n, payload FROM batches WHERE seq > ? ORDER BY seq'),
      oldest: db.prepare('SELECT seq, n, bytes FROM batches ORDER BY seq LIMIT ?'),
      delOldest: db.prepare('DELETE FROM batches WHERE seq <= ?'),
      agg: db.prepare('SELECT count(*) AS rows, coalesce(sum(bytes),0) AS bytes, coalesce(sum(n),0) AS n FROM batches'),
      oldestTs: db.prepare('SELECT min(first_ts) AS t FROM batches'),
    };
    this.db = db;
    this.recount();
  }

  /** Hot path: encode once and hold until the next flush. */
  add(r: Reading): void {
    const f = this.enc.reading(r);
    if (this.pending.length === 0) this.firstTsPending = r.ts;
    this.pending.push(f);
    this.pendingBytes += typeof r.value === 'string' ? Buffer.byteLength(f) : f.length;
    this.counters.readingsIn++;
    // Under heavy load, cut batches early: one payload string per batch instead of thousands of
    // small fragments keeps the heap bounded (a 96 MiB heap cap otherwise overflows at ~400k
    // readings/s). No disk write here: the next flush writes them as usual.
    if (this.pendingBytes >= PENDING_CUT_BYTES) this.cutBatches();
  }

  /**
   * Cut pending readings into batches and commit, in ONE transaction, the batches due for the disk
   * (all of them, or with deferWrites those not acknowledged since the previous flush), the
   * deletions of acknowledged ones, and meta (seq reservation, drop counters) when it changed.
   * `final` (shutdown) writes everything still unacknowledged.
   */
  flush(final = false): void {
    this.tick++;
    this.cutBatches();
    if (!this.db && (performance.now() - this.lastOpenAttempt < REOPEN_INTERVAL_MS || !this.tryOpen())) {
      this.boundMemory();
      return;
    }
    const db = this.db!;
    const due = !this.opts.deferWrites || final ? this.unsaved : this.unsaved.filter((b) => b.tick < this.tick);
    const seqDue = this.nextSeq > this.persistedNext;
    if (due.length === 0 && this.acked.length === 0 && !seqDue && this.dropsKey() === this.persistedDrops) {
      return;
    }
    const batches = due;
    const acked = this.acked;
    // A failed transaction is retried with the same batches: its drop counts must not stick.
    const before = { ...this.counters, refusingNew: this.refusingNew, persistedNext: this.persistedNext };
    try {
      db.transaction(() => {
        for (const seq of acked) {
          const row = this.stmt.del.get(seq) as { n: number; bytes: number } | undefined;
          if (row) {
            this.refusingNew = false;
            this.storedRows--;
            this.storedBytes -= row.bytes;
            this.storedReadings -= row.n;
          }
        }
        this.admit(batches);
        if (seqDue) {
          // Reserve ahead: the seq is on disk before any batch carrying it is published, and
          // meta is rewritten once per SEQ_RESERVE batches, not at every flush.
          this.persistedNext = this.nextSeq + SEQ_RESERVE;
          this.stmt.setMeta.run('next_seq', this.persistedNext);
        }
        const drops = this.dropsKey();
        if (drops !== this.persistedDrops) {
          this.stmt.setMeta.run('dropped_overflow', this.counters.droppedOverflow);
          this.stmt.setMeta.run('dropped_thinned', this.counters.droppedThinned);
          this.stmt.setMeta.run('dropped_memory', this.counters.droppedMemory);
        }
      })();
      this.persistedDrops = this.dropsKey();
      this.clockFloor = Infinity;
      if (batches === this.unsaved) {
        this.unsaved = [];
        this.unsavedBytes = 0;
      } else if (batches.length > 0) {
        const written = new Set(batches);
        this.unsaved = this.unsaved.filter((b) => !written.has(b));
        this.unsavedBytes = this.unsaved.reduce((n, b) => n + b.bytes, 0);
      }
      this.acked = [];
      this.ackedSet.clear();
      if (this.lastWriteError) {
        this.opts.log.info({ outbox: this.file, droppedMemory: this.counters.droppedMemory }, 'outbox writes work again; held readings are now on disk');
        this.lastWriteError = '';
      }
    } catch (e) {
      // Disk full, read-only filesystem, I/O error: keep what we have in memory (bounded), retry next flush.
      this.counters.droppedOverflow = before.droppedOverflow;
      this.counters.droppedThinned = before.droppedThinned;
      this.counters.batchesStored = before.batchesStored;
      this.counters.readingsStored = before.readingsStored;
      this.refusingNew = before.refusingNew;
      this.persistedNext = before.persistedNext;
      this.recount();
      this.writeFailed(e as Error, 'outbox write failed');
      // The batches cut just now carry seqs that could not be reserved on disk, and are not
      // published yet: move them above anything a restart could hand out again (wall-clock floor).
      const fresh = this.unsaved.filter((b) => b.tick === this.tick && b.seq >= this.persistedNext && b.seq < this.clockFloor);
      if (fresh.length > 0) {
        this.clockFloor = Math.max(this.nextSeq, this.now());
        this.nextSeq = this.clockFloor;
        for (const b of fresh) this.renumber(b, this.nextSeq++);
      }
      this.boundMemory();
    }
  }

  private renumber(b: HeldBatch, seq: number): void {
    this.renumbered.add(b.seq);
    b.seq = seq;
    b.payload = this.enc.reseq(b.payload, seq);
    this.unsavedBytes -= b.bytes;
    b.bytes = Buffer.byteLength(b.payload);
    this.unsavedBytes += b.bytes;
  }

  private dropsKey(): string {
    const c = this.counters;
    return `${c.droppedOverflow}/${c.droppedThinned}/${c.droppedMemory}`;
  }

  /** One error line per distinct cause (not per flush), then silence until it changes or recovers. */
  private writeFailed(e: Error & { code?: string }, what: string): void {
    this.counters.writeErrors++;
    // Node's fs messages already start with their code ("EACCES: permission denied, ..."); SQLite's do not.
    const msg = e.code && !e.message.startsWith(`${e.code}:`) ? `${e.code}: ${e.message}` : e.message;
    if (msg !== this.lastWriteError) {
      const limit = this.opts.memoryLimitBytes ?? DEFAULT_MEMORY_LIMIT;
      this.opts.log.error(
        { outbox: this.file, err: msg, heldBatches: this.unsaved.length, memoryLimitBytes: limit },
        `${what} (${hint(msg, this.opts.dataDir)}); holding readings in memory (oldest dropped and counted beyond buffer.memoryMaxBytes) and retrying`,
      );
      this.lastWriteError = msg;
    }
    // Make sure the seq stays unique even if no database ever told us where it stood.
    if (!this.db && this.nextSeq === 1) this.nextSeq = Math.max(1, this.now());
  }

  /** Our running totals may be off after a failed transaction, or stale after an open: re-read them. */
  private recount(): void {
    if (!this.db) return;
    try {
      const agg = this.stmt.agg.get() as { rows: number; bytes: number; n: number };
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
          this.unsaved.push({ seq, n: i - from, ts, firstTs: this.firstTsPending, payload, bytes: b, tick: this.tick });
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
      if (this.refusingNew || this.storedBytes + this.storedRows * ROW_OVERHEAD + need > cap) {
        if (this.opts.overflow === 'drop-newest') {
          // Once full, refuse everything new until acknowledged batches free space: a smaller
          // batch slipping into the last bytes would leave isolated readings after a gap.
          this.refusingNew = true;
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
        const r = thinBatches(this.db!, this.enc, Math.floor(this.storedBytes / 2));
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
    const limit = this.opts.memoryLimitBytes ?? DEFAULT_MEMORY_LIMIT;
    while (this.unsavedBytes > limit && this.unsaved.length > 1) {
      const b = this.unsaved.shift()!;
      this.unsavedBytes -= b.bytes;
      this.dropped('memory', b.n);
    }
  }

  /**
   * Up to `limit` batches with seq > afterSeq, oldest first: stored ones, then those held in memory.
   * Batches acknowledged but not yet deleted are skipped.
   */
  next(afterSeq: number, limit: number): StoredBatch[] {
    const out: StoredBatch[] = [];
    if (this.db) {
      // Acknowledged rows are skipped while iterating: fetching limit + acked rows with their
      // payloads would allocate megabytes per call while a backlog drains.
      try {
        for (const b of this.stmt.next.iterate(afterSeq) as IterableIterator<StoredBatch>) {
          if (this.ackedSet.has(b.seq)) continue;
          out.push(b);
          if (out.length >= limit) break;
        }
      } catch {
        /* unreadable right now: the memory queue below still flows */
      }
    }
    for (const b of this.unsaved) {
      if (out.length >= limit) break;
      if (b.seq > afterSeq) out.push({ seq: b.seq, n: b.n, payload: Buffer.from(b.payload) });
    }
    return out;
  }

  /** The broker acknowledged this batch: it is deleted with the next flush (or now, if only in memory). */
  ack(seq: number, n: number): void {
    if (this.renumbered.has(seq)) return;
    this.counters.batchesAcked++;
    this.counters.readingsSent += n;
    const i = this.unsaved.findIndex((b) => b.seq === seq);
    if (i >= 0) {
      this.unsavedBytes -= this.unsaved[i].bytes;
      this.unsaved.splice(i, 1);
      return;
    }
    this.acked.push(seq);
    this.ackedSet.add(seq);
  }

  /** Config swap: new cap, overflow policy and batch limits apply from the next flush. */
  setLimits(l: Pick<OutboxOptions, 'maxBytes' | 'overflow' | 'batch' | 'memoryLimitBytes'>): void {
    if (l.memoryLimitBytes !== undefined) this.opts.memoryLimitBytes = l.memoryLimitBytes;
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
    let oldestTs: number | null = null;
    if (this.db) {
      try {
        oldestTs = (this.stmt.oldestTs.get() as { t: number | null }).t;
      } catch {
        /* unreadable: leave null */
      }
    }
    if (oldestTs === null && this.unsaved.length > 0) oldestTs = this.unsaved[0].firstTs;
    return {
      file: this.file,
      rows: this.storedRows,
      readings: this.storedReadings,
      payloadBytes: this.storedBytes,
      fileBytes,
      capBytes: this.opts.maxBytes,
      overflow: this.opts.overflow,
      oldestTs,
      pendingReadings: this.pending.length,
      heldBatches: this.unsaved.length,
      heldReadings: this.unsaved.reduce((n, b) => n + b.n, 0),
      heldBytes: this.unsavedBytes,
      writeError: this.lastWriteError || undefined,
      nextSeq: this.nextSeq,
      ...this.counters,
    };
  }

  close(): void {
    try {
      this.lastOpenAttempt = -Infinity; // one last try to reach the disk
      this.flush(true);
      const lost = this.unsaved.reduce((n, b) => n + b.n, 0) + this.pending.length;
      if (lost > 0) this.opts.log.error({ outbox: this.file, lost, err: this.lastWriteError }, 'readings held in memory are lost: the data dir refused writes at shutdown');
    } finally {
      this.db?.close();
      this.db = undefined;
    }
  }
}

/** mkdir -p, but with the real cause: Node 20's recursive mkdir says ENOENT where the parent is read-only. */
function ensureDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || !fs.existsSync(path.dirname(dir))) throw e;
    fs.mkdirSync(dir); // throws EROFS / EACCES if that is the cause
  }
}

/** What an operator should look at for a given SQLite/fs error. */
function hint(msg: string, dir: string): string {
  if (/FULL|ENOSPC|disk is full/i.test(msg)) return 'the data dir\'s filesystem is full';
  if (/READONLY|EROFS|read-only|EACCES|EPERM|permission/i.test(msg)) return 'the data dir is read-only or not writable by this user';
  // SQLite says CANTOPEN both for a missing dir and for one this user may not write in.
  if (/CANTOPEN|ENOENT/i.test(msg)) return fs.existsSync(dir) ? 'the data dir exists but this user cannot create files in it: check its owner and mode' : 'the data dir does not exist and cannot be created';
  if (/IOERR|EIO/i.test(msg)) return 'I/O error: the storage may be failing';
  if (/CORRUPT|NOTADB/i.test(msg)) return 'the outbox file is damaged; move it aside to start a fresh one';
  return 'check agent.dataDir';
}
