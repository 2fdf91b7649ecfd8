import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { StoredBatch, BatchSource } from '../../core/batch.js';
import type { Reading } from '../../core/reading.js';
import { BatchEncoder } from './encode.js';
import { Batcher } from './batcher.js';
import { HeldQueue } from './held.js';
import { SeqSpace } from './seq.js';
import { OutboxStore } from './store.js';
import { errorLine, hint } from './disk.js';
import { admit, overflowPolicy, type OverflowPolicy } from './overflow.js';
import { adopt } from './open.js';
import { DropLog, dropsKey, newCounters, type OutboxCounters } from './stats.js';
import { FlushCadence, type CadenceHooks } from './cadence.js';

import { DEFAULT_MEMORY_LIMIT, type OutboxOptions } from './options.js';

export { ROW_OVERHEAD } from './store.js';
export type { OutboxOptions } from './options.js';

const REOPEN_INTERVAL_MS = 5000; // retrying a data dir that could not be opened

/**
 * The outbox, the one queue between pipelines and uplink: Batcher (readings encoded on arrival,
 * cut into batches), SeqSpace (seq and stream), OutboxStore (SQLite), OverflowPolicy, HeldQueue
 * (batches not on disk yet) and FlushCadence. `flush()` writes new batches, the seq reservation
 * and the deletions of acknowledged batches in ONE transaction (one commit per flush spares the
 * SD card); with deferWrites a batch acknowledged before the next flush is never written. The
 * uplink reads stored batches, then held ones, oldest first (`next`).
 */
export class Outbox implements BatchSource {
  readonly file: string;
  readonly counters: OutboxCounters = newCounters();
  /** Undefined while the data dir cannot be opened (then everything lives in `held`). */
  private store: OutboxStore | undefined;
  private readonly enc: BatchEncoder;
  private readonly now: () => number;
  private readonly seq = new SeqSpace();
  private readonly held = new HeldQueue();
  private readonly batcher: Batcher;
  private policy: OverflowPolicy;
  private readonly drops: DropLog;
  private cadence: FlushCadence | undefined;
  /** Stored batches acknowledged by the broker, deleted at the next flush. */
  private acked: number[] = [];
  private readonly ackedSet = new Set<number>();
  private lastWriteError = '';
  private lastOpenAttempt = 0;
  /** Flush counter: a batch cut at tick t is due for the disk at tick t + 1 (deferWrites). */
  private tick = 0;
  /** Drop counters as on disk: meta is written only when they change. */
  private persistedDrops = '';

  constructor(private readonly opts: OutboxOptions) {
    this.file = path.join(opts.dataDir, 'outbox.db');
    this.now = opts.now ?? Date.now;
    this.enc = new BatchEncoder(opts.agentId);
    this.batcher = new Batcher(this.enc, this.seq, this.held, this.now, opts.batch);
    this.policy = overflowPolicy(opts.overflow);
    this.drops = new DropLog(this.counters, opts.log, this.now, () => ({ policy: this.opts.overflow, capBytes: this.opts.maxBytes, batchCapBytes: this.store?.lastCap }));
    // A data dir that cannot be opened (read-only, full, missing mount, a file) must not stop the
    // daemon: readings are then held in a bounded memory queue, sent from there, and the open is retried.
    this.tryOpen();
  }

  /** Opens (or re-opens) the database; false, logged once per distinct cause, when it cannot. */
  private tryOpen(): boolean {
    this.lastOpenAttempt = performance.now();
    let store: OutboxStore | undefined;
    try {
      store = OutboxStore.open(this.opts.dataDir, this.opts.maxBytes);
      this.persistedDrops = adopt(store, this.seq, this.counters);
      this.store = store;
      if (this.lastWriteError) this.opts.log.info({ outbox: this.file, stream: this.seq.stream }, 'outbox opened');
      return true;
    } catch (e) {
      try {
        store?.close();
      } catch {
        /* already broken */
      }
      this.store = undefined;
      this.writeFailed(e as Error, 'cannot open the outbox');
      return false;
    }
  }

  /** Hot path: encode once and hold until the next flush. */
  add(r: Reading): void {
    this.batcher.add(r, this.tick);
    this.counters.readingsIn++;
    this.cadence?.reading();
  }

  /**
   * Cut pending readings into batches and commit, in ONE transaction, the batches due for the disk
   * (all of them, or with deferWrites those not acknowledged since the previous flush), the
   * deletions of acknowledged ones, and meta (stream + seq reservation, drop counters) when it
   * changed. `final` (shutdown) writes everything still unacknowledged.
   */
  flush(final = false): void {
    this.tick++;
    this.batcher.cut(this.tick);
    if (!this.store && (performance.now() - this.lastOpenAttempt < REOPEN_INTERVAL_MS || !this.tryOpen())) {
      this.boundMemory();
      return;
    }
    const store = this.store!;
    const held = this.held.batches;
    const due = !this.opts.deferWrites || final ? held : held.filter((b) => b.tick < this.tick);
    const seqDue = this.seq.due();
    // After a failure, every flush writes something (see probe below) until a commit works again.
    if (due.length === 0 && this.acked.length === 0 && !seqDue && !this.lastWriteError && dropsKey(this.counters) === this.persistedDrops) return;
    const acked = this.acked;
    // A failed transaction is retried with the same batches: its drop counts must not stick.
    const before = { ...this.counters };
    const reservation = this.seq.reservation();
    try {
      const cap = due.length > 0 ? store.capacity() : 0;
      const room = due.length > 0 ? store.diskRoom() : 0;
      let written = 0;
      store.transaction(() => {
        let freed = false;
        for (const seq of acked) freed = store.delete(seq) || freed;
        if (freed) this.policy.freed();
        written = admit(this.policy, store, due, { cap, room, created: this.now(), counters: this.counters, dropped: (kind, n) => this.drops.dropped(kind, n) });
        // Reserve ahead: stream and seq are on disk before any batch carrying them is published.
        // While writes fail, rewriting the reservation probes the disk, so recovery (and health) is noticed.
        if (seqDue || this.lastWriteError) {
          store.setMeta('stream', reservation.stream);
          store.setMeta('next_seq', reservation.nextSeq);
        }
        if (dropsKey(this.counters) !== this.persistedDrops) store.setDrops(this.counters);
      });
      if (seqDue || this.lastWriteError) this.seq.committed(reservation);
      this.persistedDrops = dropsKey(this.counters);
      this.held.written(written === due.length ? due : due.slice(0, written));
      this.acked = [];
      this.ackedSet.clear();
      store.trimWal();
      if (written < due.length) {
        // Not an SQLite error: we stopped short of the disk. The rest waits in memory, as for one.
        const e = Object.assign(new Error("the data dir's filesystem has no room beyond the outbox's WAL reserve; new batches wait in memory"), { code: 'ENOSPC' });
        this.writeFailed(e, 'outbox write failed');
        this.boundMemory();
      } else if (this.lastWriteError) {
        this.opts.log.info({ outbox: this.file, droppedMemory: this.counters.droppedMemory, stream: this.seq.stream }, 'outbox writes work again; held readings are now on disk');
        this.lastWriteError = '';
      }
    } catch (e) {
      // Disk full, read-only filesystem, I/O error: keep what we have in memory (bounded), retry next flush.
      Object.assign(this.counters, { droppedOverflow: before.droppedOverflow, droppedThinned: before.droppedThinned, batchesStored: before.batchesStored, readingsStored: before.readingsStored });
      store.recount();
      this.writeFailed(e as Error, 'outbox write failed');
      // A WAL that filled the disk frees its space once checkpointed (if the database has room).
      store.checkpoint();
      this.seqNotReserved();
      this.boundMemory();
    }
  }

  /** Seqs past the reservation could not be reserved: their stream ends; unpublished batches move to a new one. */
  private seqNotReserved(): void {
    const moved = this.seq.failed();
    if (!moved) return;
    const n = this.held.restream(moved.from, moved.stream, (p) => this.enc.restream(p, moved.stream));
    this.opts.log.warn({ outbox: this.file, stream: moved.stream, fromSeq: moved.from, batches: n }, 'new stream: seq could not be reserved on disk, continuity is not provable');
  }

  /** One error line per distinct cause (not per flush), then silence until it changes or recovers. */
  private writeFailed(e: Error & { code?: string }, what: string): void {
    this.counters.writeErrors++;
    const msg = errorLine(e);
    if (msg === this.lastWriteError) return;
    const fields = { outbox: this.file, err: msg, heldBatches: this.held.length, memoryLimitBytes: this.opts.memoryLimitBytes ?? DEFAULT_MEMORY_LIMIT, stream: this.seq.stream };
    this.opts.log.error(fields, `${what} (${hint(msg, this.opts.dataDir)}); holding readings in memory (oldest dropped and counted beyond buffer.memoryMaxBytes) and retrying`);
    this.lastWriteError = msg;
  }

  private boundMemory(): void {
    this.held.bound(this.opts.memoryLimitBytes ?? DEFAULT_MEMORY_LIMIT, (b) => this.drops.dropped('memory', b.n));
  }

  /**
   * Up to `limit` batches with seq > afterSeq, oldest first: stored ones, then those held in memory.
   * Batches acknowledged but not yet deleted are skipped; so are held ones whose seq is not reserved yet.
   */
  next(afterSeq: number, limit: number): StoredBatch[] {
    const out: StoredBatch[] = [];
    if (this.store) {
      try {
        this.store.next(afterSeq, limit, this.ackedSet, out);
      } catch {
        /* unreadable right now: the memory queue below still flows */
      }
    }
    for (const b of this.held.batches) {
      if (out.length >= limit || !this.seq.publishable(b.stream, b.seq)) break;
      if (b.seq > afterSeq) out.push({ seq: b.seq, n: b.n, payload: Buffer.from(b.payload) });
    }
    return out;
  }

  /** The broker acknowledged this batch: it is deleted with the next flush (or now, if only in memory). */
  ack(seq: number, n: number): void {
    this.counters.batchesAcked++;
    this.counters.readingsSent += n;
    if (this.held.remove(seq)) return;
    this.acked.push(seq);
    this.ackedSet.add(seq);
  }

  /** Config swap: new cap, overflow policy, batch limits and flush cadence apply from the next flush. */
  setLimits(l: Pick<OutboxOptions, 'maxBytes' | 'overflow' | 'memoryLimitBytes'> & { batch: { maxReadings: number; maxBytes: number; maxDelay?: number }; flushInterval?: number }): void {
    if (l.memoryLimitBytes !== undefined) this.opts.memoryLimitBytes = l.memoryLimitBytes;
    if (l.overflow !== this.opts.overflow) this.policy = overflowPolicy(l.overflow);
    this.opts.maxBytes = l.maxBytes;
    this.opts.overflow = l.overflow;
    this.opts.batch = l.batch;
    this.batcher.limits = l.batch;
    this.store?.setBudget(l.maxBytes);
    if (this.cadence && l.flushInterval !== undefined && l.batch.maxDelay !== undefined) this.cadence.reschedule({ flushInterval: l.flushInterval, maxDelay: l.batch.maxDelay });
  }

  /** Flush on the cadence (and the first batch at once); the runtime starts it and stops it. */
  startFlushing(settings: { flushInterval: number; maxDelay: number }, hooks: CadenceHooks): void {
    this.cadence ??= new FlushCadence(() => this.flush(), hooks, settings);
    this.cadence.start();
  }

  stopFlushing(): void {
    this.cadence?.stop();
  }

  /** The flush timer (systemd watchdog progress). */
  get flushTimer(): { lastTick: number; periodMs: number } | undefined {
    return this.cadence?.timer;
  }

  /** The outbox takes writes: open and its last commit worked. False = data only in memory (health: degraded). */
  get writable(): boolean {
    return this.store !== undefined && this.lastWriteError === '';
  }

  get stream(): string {
    return this.seq.stream;
  }

  stats() {
    const store = this.store;
    let oldestTs = store?.oldestTs() ?? null;
    if (oldestTs === null && this.held.length > 0) oldestTs = this.held.batches[0].firstTs;
    return {
      file: this.file,
      stream: this.seq.stream,
      writable: this.writable,
      rows: store?.rows ?? 0,
      readings: store?.readings ?? 0,
      payloadBytes: store?.bytes ?? 0,
      fileBytes: store?.fileBytes() ?? 0,
      capBytes: this.opts.maxBytes,
      overflow: this.opts.overflow,
      oldestTs,
      pendingReadings: this.batcher.pendingReadings,
      heldBatches: this.held.length,
      heldReadings: this.held.readings(),
      heldBytes: this.held.bytes,
      writeError: this.lastWriteError || undefined,
      nextSeq: this.seq.next,
      ...this.counters,
    };
  }

  /**
   * Last flush (one more try to reach the disk) and close. Returns the readings lost (held in
   * memory, the disk refusing) and whether the outbox was written at the end.
   */
  close(): { lost: number; written: boolean } {
    try {
      this.cadence?.stop();
      this.lastOpenAttempt = -Infinity;
      this.flush(true);
      const lost = this.held.readings() + this.batcher.pendingReadings;
      if (lost > 0) this.opts.log.error({ outbox: this.file, lost, err: this.lastWriteError }, 'readings held in memory are lost: the data dir refused writes at shutdown');
      return { lost, written: this.writable };
    } finally {
      this.store?.close();
      this.store = undefined;
    }
  }
}
