import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { Outbox, ROW_OVERHEAD, type OutboxOptions } from '../../agent/outbox/outbox.js';
import { silentLogger } from '../../core/log.js';
import { tempDir } from '../helpers/daemon.js';
import type { Reading } from '../../core/reading.js';

function open(dataDir: string, over: Partial<OutboxOptions> = {}) {
  return new Outbox({ agentId: 'a1', dataDir, maxBytes: 64 * 1024 * 1024, overflow: 'drop-oldest', batch: { maxReadings: 10, maxBytes: 256 * 1024 }, log: silentLogger, ...over });
}
const r = (i: number, point = 'p'): Reading => ({ source: 's', point, ts: 1_700_000_000_000 + i, value: i });
/** The SQLite handle inside the outbox's store (tests that make the disk refuse writes). */
const dbOf = (o: Outbox) => (o as unknown as { store: { db: Database.Database } }).store.db;
const docs = (o: Outbox) => o.next(0, 1e6).map((b) => JSON.parse(b.payload.toString()) as { agent: string; seq: number; ts: number; readings: Reading[] });

test('batches follow maxReadings, carry the SPEC fields, and keep acquisition order', () => {
  const o = open(tempDir());
  for (let i = 0; i < 25; i++) o.add(r(i));
  o.add({ source: 's', point: 'q', ts: 5, value: 'a "quoted" ✓', quality: 'bad' });
  o.add({ source: 's', point: 'b', ts: 6, value: true, quality: 'good' });
  o.flush();
  const d = docs(o);
  assert.deepEqual(d.map((b) => b.readings.length), [10, 10, 7]);
  assert.deepEqual(d.map((b) => b.seq), [1, 2, 3]);
  assert.equal(d[0].agent, 'a1');
  assert.deepEqual(d[0].readings[0], { source: 's', point: 'p', ts: 1_700_000_000_000, value: 0 });
  assert.deepEqual(d.flatMap((b) => b.readings).filter((x) => x.point === 'p').map((x) => x.value), [...Array(25).keys()]);
  assert.deepEqual(d[2].readings[5], { source: 's', point: 'q', ts: 5, value: 'a "quoted" ✓', quality: 'bad' });
  assert.deepEqual(d[2].readings[6], { source: 's', point: 'b', ts: 6, value: true }, 'good quality is omitted');
  o.close();
});

test('batch.maxBytes splits batches below the limit', () => {
  const o = open(tempDir(), { batch: { maxReadings: 1000, maxBytes: 1024 } });
  for (let i = 0; i < 100; i++) o.add(r(i));
  o.flush();
  const b = o.next(0, 100);
  assert.ok(b.length > 1);
  for (const x of b) assert.ok(x.payload.length <= 1024, `batch of ${x.payload.length} bytes`);
  assert.equal(b.reduce((n, x) => n + x.n, 0), 100);
  o.close();
});

test('seq is persisted and strictly increases across reopen, even after every batch was acked', () => {
  const dir = tempDir();
  let o = open(dir);
  for (let i = 0; i < 15; i++) o.add(r(i));
  o.flush();
  for (const b of o.next(0, 10)) o.ack(b.seq, b.n);
  o.flush();
  assert.equal(o.stats().rows, 0, 'acked batches are deleted');
  o.close();
  o = open(dir);
  o.add(r(99));
  o.flush();
  const [b] = o.next(0, 10);
  assert.ok(b.seq > 2, `seq ${b.seq} after a reopen (a reserved range may be skipped)`);
  assert.equal(JSON.parse(b.payload.toString()).seq, b.seq, 'payload carries the row seq');
  o.close();
});

test('a batch is deleted only after ack; unacked batches stay for the next run', () => {
  const dir = tempDir();
  let o = open(dir);
  for (let i = 0; i < 30; i++) o.add(r(i));
  o.flush();
  const [b1] = o.next(0, 1);
  o.ack(b1.seq, b1.n);
  o.close(); // close flushes the ack
  o = open(dir);
  assert.deepEqual(o.next(0, 10).map((b) => b.seq), [2, 3]);
  assert.equal(o.stats().readings, 20);
  o.close();
  const db = new Database(`${dir}/outbox.db`, { readonly: true });
  assert.equal((db.pragma('integrity_check') as { integrity_check: string }[])[0].integrity_check, 'ok');
  assert.equal((db.pragma('journal_mode') as { journal_mode: string }[])[0].journal_mode, 'wal');
  db.close();
});

function fill(o: Outbox, batches: number, perBatch = 10, start = 0) {
  // Fixed-width values so every batch has the same size.
  for (let i = 0; i < batches * perBatch; i++) o.add({ ...r(start + i, `p${i % 2}`), value: 100_000 + start + i });
  o.flush();
}

test('overflow drop-oldest: the cap holds and the oldest batches go, counted', () => {
  const probe = open(tempDir());
  fill(probe, 1);
  const one = probe.next(0, 1)[0].payload.length + ROW_OVERHEAD;
  probe.close();
  const o = open(tempDir(), { maxBytes: one * 5 + 10, overflow: 'drop-oldest' });
  fill(o, 8);
  const s = o.stats();
  assert.equal(s.rows, 5);
  assert.ok(s.payloadBytes + s.rows * ROW_OVERHEAD <= one * 5 + 10);
  assert.equal(s.droppedOverflow, 30);
  assert.deepEqual(o.next(0, 100).map((b) => b.seq), [4, 5, 6, 7, 8]);
  o.close();
});

test('overflow drop-newest: the stored backlog is kept, new batches are dropped and counted', () => {
  const probe = open(tempDir());
  fill(probe, 1);
  const one = probe.next(0, 1)[0].payload.length + ROW_OVERHEAD;
  probe.close();
  const o = open(tempDir(), { maxBytes: one * 5 + 10, overflow: 'drop-newest' });
  fill(o, 8);
  assert.deepEqual(o.next(0, 100).map((b) => b.seq), [1, 2, 3, 4, 5]);
  assert.equal(o.stats().droppedOverflow, 30);
  o.close();
});

test('overflow thin: old data is kept at half resolution per source/point instead of cut', () => {
  const probe = open(tempDir());
  fill(probe, 1);
  const one = probe.next(0, 1)[0].payload.length + ROW_OVERHEAD;
  probe.close();
  const o = open(tempDir(), { maxBytes: one * 8, overflow: 'thin' });
  fill(o, 20);
  const d = docs(o);
  const s = o.stats();
  assert.ok(s.payloadBytes + s.rows * ROW_OVERHEAD <= one * 8, 'cap holds');
  assert.ok(s.droppedThinned > 0);
  // The very first reading of each series survives (history still reaches back to the start).
  const all = d.flatMap((b) => b.readings);
  assert.equal(all[0].ts, 1_700_000_000_000);
  // Newest batch untouched: full resolution for fresh data.
  assert.equal(d.at(-1)!.readings.length, 10);
  // Thinned series keep acquisition order.
  for (const p of ['p0', 'p1']) {
    const ts = all.filter((x) => x.point === p).map((x) => x.ts);
    assert.deepEqual(ts, [...ts].sort((a, b) => a - b));
  }
  assert.equal(s.readings + s.droppedThinned + s.droppedOverflow, 200, 'every reading is stored or counted');
  for (const b of o.next(0, 100)) {
    const doc = JSON.parse(b.payload.toString());
    assert.equal(doc.stream, s.stream, 'thinned batches keep their stream');
    assert.equal(doc.seq, b.seq, 'and their seq');
  }
  o.close();
});

test('write failures hold readings in memory (bounded, counted) and recover', () => {
  const dir = tempDir();
  const o = open(dir, { memoryLimitBytes: 2000 });
  // Simulate a refusing disk: make the db read-only underneath by swapping in a failing transaction.
  const db = dbOf(o);
  const orig = db.transaction.bind(db);
  let fail = true;
  (db as unknown as { transaction: unknown }).transaction = (fn: () => void) => (fail ? () => { throw new Error('SQLITE_FULL: database or disk is full'); } : orig(fn));
  for (let k = 0; k < 10; k++) fill(o, 1, 10, k * 10);
  assert.equal(o.stats().rows, 0);
  assert.ok(o.stats().writeErrors >= 10);
  assert.ok(o.stats().droppedMemory > 0, 'over the memory bound, oldest held batches are dropped and counted');
  fail = false;
  o.flush();
  const s = o.stats();
  assert.equal(s.readings + s.droppedMemory, 100);
  assert.ok(s.readings > 0);
  o.close();
});

test('deferWrites: a batch acknowledged before the next flush never reaches the disk; its seq is still never reused', () => {
  const dir = tempDir();
  let o = open(dir, { deferWrites: true });
  const rows = () => dbOf(o).prepare('SELECT count(*) AS c FROM batches').get() as { c: number };
  for (let i = 0; i < 10; i++) o.add(r(i));
  o.flush();
  assert.equal(rows().c, 0, 'not written at the flush that cut it');
  const [b1] = o.next(0, 10);
  assert.equal(b1.n, 10, 'but available to the uplink from memory');
  o.ack(b1.seq, b1.n);
  for (let i = 10; i < 20; i++) o.add(r(i));
  o.flush();
  assert.equal(rows().c, 0, 'acknowledged batch never written');
  const [b2] = o.next(b1.seq, 10);
  o.flush(); // b2 not acknowledged by the next flush: written now
  assert.equal(rows().c, 1);
  assert.deepEqual(o.next(0, 10).map((b) => b.seq), [b2.seq]);
  o.ack(b2.seq, b2.n);
  o.flush();
  assert.equal(rows().c, 0, 'deleted after its ack');
  for (let i = 20; i < 25; i++) o.add(r(i));
  o.close(); // shutdown writes what is still unacknowledged
  o = open(dir, { deferWrites: true });
  const left = o.next(0, 10);
  assert.equal(left.length, 1);
  assert.deepEqual(JSON.parse(left[0].payload.toString()).readings.map((x: Reading) => x.value), [20, 21, 22, 23, 24]);
  o.add(r(99));
  o.flush();
  const seqs = o.next(0, 10).map((b) => b.seq);
  assert.ok(seqs[1] > left[0].seq && left[0].seq > b2.seq && b2.seq > b1.seq, `seqs ${b1.seq} ${b2.seq} ${seqs}`);
  o.close();
});

test('deferWrites: a seq that cannot be reserved ends the stream; unpublished batches move to a new one, seq and payload agree', () => {
  const dir = tempDir();
  const o = open(dir, { deferWrites: true, now: () => 1_800_000_000_000 });
  for (let i = 0; i < 5; i++) o.add(r(i));
  o.flush(); // reserves seqs on disk
  const first = o.stats().stream;
  const db = dbOf(o);
  const orig = db.transaction.bind(db);
  let fail = true;
  (db as unknown as { transaction: unknown }).transaction = (fn: () => void) => (fail ? () => { throw new Error('SQLITE_FULL: database or disk is full'); } : orig(fn));
  // Force a reservation-needing cut: exhaust the reserved range.
  (o as unknown as { seq: { next: number } }).seq.next += 20_000;
  for (let i = 5; i < 10; i++) o.add(r(i));
  o.flush();
  assert.notEqual(o.stats().stream, first, 'a new stream: the seq could not be reserved');
  const held = o.next(0, 10);
  const last = JSON.parse(held.at(-1)!.payload.toString());
  assert.equal(last.stream, o.stats().stream, 'the unpublished batch moved into the new stream');
  assert.equal(last.seq, held.at(-1)!.seq, 'keeping its seq');
  assert.equal(JSON.parse(held[0].payload.toString()).stream, first, 'reserved batches stay in their stream');
  fail = false;
  o.flush();
  for (const b of o.next(0, 10)) assert.equal(JSON.parse(b.payload.toString()).seq, b.seq);
  const seqs = o.next(0, 10).map((b) => b.seq);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
  o.close();
});

test('upgrade: a backlog written before formats were numbered is read and sent as it was', () => {
  const dir = tempDir();
  // The layout of the first release (no user_version), written by hand, not by the Outbox class.
  const db = new Database(`${dir}/outbox.db`);
  db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE batches (seq INTEGER PRIMARY KEY, n INTEGER NOT NULL, bytes INTEGER NOT NULL, first_ts INTEGER NOT NULL, created INTEGER NOT NULL, thinned INTEGER NOT NULL DEFAULT 0, payload BLOB NOT NULL);`);
  const payload = '{"agent":"a1","seq":41,"ts":1,"readings":[{"source":"s","point":"p","ts":1,"value":7}]}';
  db.prepare('INSERT INTO batches VALUES (41, 1, ?, 1, 1, 0, ?)').run(payload.length, Buffer.from(payload));
  db.prepare("INSERT INTO meta VALUES ('next_seq', 42)").run();
  db.close();
  const o = open(dir);
  const b = o.next(0, 10);
  assert.deepEqual(b.map((x) => [x.seq, x.payload.toString()]), [[41, payload]]);
  o.add(r(1));
  o.flush(true);
  assert.ok(o.next(41, 10)[0].seq > 41, 'new batches continue after the old seq');
  o.close();
  const check = new Database(`${dir}/outbox.db`, { readonly: true });
  assert.equal(check.pragma('user_version', { simple: true }), 1, 'format number written');
  check.close();
});

test('downgrade: an outbox of a newer format is refused with a clear error and left untouched', () => {
  const dir = tempDir();
  const db = new Database(`${dir}/outbox.db`);
  db.exec('CREATE TABLE future (x)');
  db.pragma('user_version = 99');
  db.close();
  const o = open(dir);
  assert.match(o.stats().writeError ?? '', /format 99 was written by a newer edge-agent/);
  o.add(r(1));
  o.flush();
  assert.equal(o.stats().heldBatches, 1, 'readings wait in memory instead');
  o.close();
  const check = new Database(`${dir}/outbox.db`, { readonly: true });
  assert.equal(check.pragma('user_version', { simple: true }), 99);
  assert.deepEqual(check.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all(), [{ name: 'future' }], 'no table added');
  check.close();
});

test('after a failed write, the next flush probes the disk even with nothing to write: writable (health) comes back by itself', () => {
  const o = open(tempDir(), { deferWrites: true });
  const db = dbOf(o);
  const orig = db.transaction.bind(db);
  let fail = true;
  (db as unknown as { transaction: unknown }).transaction = (fn: () => void) => (fail ? () => { throw new Error('SQLITE_FULL: database or disk is full'); } : orig(fn));
  for (let i = 0; i < 5; i++) o.add(r(i));
  o.flush();
  const [b] = o.next(0, 10);
  o.flush(); // not acknowledged by now: due for the disk, which refuses
  assert.equal(o.stats().writable, false);
  o.ack(b.seq, b.n); // the broker took it from memory: nothing left to write
  fail = false;
  o.flush();
  assert.equal(o.stats().writable, true, 'recovered without waiting for new data');
  assert.equal(o.stats().writeError, undefined);
  o.close();
});
