import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Outbox, type OutboxOptions } from '../../../agent/outbox/outbox.js';
import { silentLogger } from '../../../core/log.js';
import { tempDir } from '../../helpers/daemon.js';

/**
 * SPEC "Batch"/"Operation": batches carry a stream; within one stream seq strictly increases
 * whatever the disk and the clock did. Each scenario plays the uplink (next, ack) across several
 * runs and checks every batch that "reached the broker".
 */
interface Sent { stream: string; seq: number; values: number[] }

function open(dataDir: string, over: Partial<OutboxOptions> = {}) {
  return new Outbox({ agentId: 'a1', dataDir, maxBytes: 64 * 1024 * 1024, overflow: 'drop-oldest', batch: { maxReadings: 5, maxBytes: 256 * 1024 }, log: silentLogger, deferWrites: true, ...over });
}

/** One "run": add readings, flush, publish and acknowledge like the uplink does. */
function run(o: Outbox, from: number, count: number, sent: Sent[], ack = true): number {
  let cursor = 0;
  for (let i = from; i < from + count; i++) {
    o.add({ source: 's', point: 'p', ts: 1_700_000_000_000 + i, value: i });
    if (i % 5 === 4) {
      o.flush();
      for (const b of o.next(cursor, 100)) {
        const doc = JSON.parse(b.payload.toString()) as { stream: string; seq: number; readings: { value: number }[] };
        sent.push({ stream: doc.stream, seq: doc.seq, values: doc.readings.map((r) => r.value) });
        cursor = b.seq;
        if (ack) o.ack(b.seq, b.n);
      }
    }
  }
  return from + count;
}

/** The property consumers rely on: per stream, seq strictly increases in sending order; (stream, seq) names one batch. */
function assertStreams(sent: Sent[]): Map<string, number[]> {
  const per = new Map<string, number[]>();
  const seen = new Map<string, string>();
  for (const b of sent) {
    const key = `${b.stream}/${b.seq}`;
    const body = JSON.stringify(b.values);
    assert.ok(!seen.has(key) || seen.get(key) === body, `(stream, seq) ${key} names two different batches`);
    if (seen.has(key)) continue; // a resend: same identity, same content
    seen.set(key, body);
    const seqs = per.get(b.stream) ?? [];
    if (seqs.length) assert.ok(b.seq > seqs.at(-1)!, `stream ${b.stream}: seq ${b.seq} after ${seqs.at(-1)}`);
    seqs.push(b.seq);
    per.set(b.stream, seqs);
  }
  return per;
}

/** A data dir that refuses: a regular file where the directory should be. */
function blocked(): string {
  const f = `${tempDir()}/data`;
  fs.writeFileSync(f, 'not a directory');
  return f;
}
const reopenNow = (o: Outbox) => ((o as unknown as { lastOpenAttempt: number }).lastOpenAttempt = -Infinity);

test('the stream is in every batch from the first one, right after "agent", and survives restarts', () => {
  const dir = tempDir();
  const sent: Sent[] = [];
  let o = open(dir);
  const first = o.stats().stream;
  assert.match(first, /^[0-9a-v]{8}$/);
  let i = run(o, 0, 10, sent);
  o.close();
  const raw = open(dir);
  assert.equal(raw.stats().stream, first, 'same outbox, same stream');
  raw.add({ source: 's', point: 'p', ts: 1, value: 1 });
  raw.flush();
  assert.match(raw.next(0, 1)[0].payload.toString(), new RegExp(`^\\{"agent":"a1","stream":"${first}","seq":\\d+,`));
  raw.close();
  o = open(dir);
  i = run(o, i, 10, sent);
  o.close();
  const per = assertStreams(sent);
  assert.deepEqual([...per.keys()], [first]);
});

test('unwritable dir: a fresh stream from seq 1, not the wall clock; a later run on the real outbox continues its own stream', () => {
  const dir = tempDir();
  const sent: Sent[] = [];
  let o = open(dir);
  let i = run(o, 0, 50, sent); // stream A up to seq 10
  const a = o.stats().stream;
  o.close();
  // The same board, its data dir refused (here: a file where the dir should be).
  o = open(blocked(), { now: () => 1_800_000_000_000 });
  assert.equal(o.stats().writable, false);
  i = run(o, i, 20, sent);
  const b = o.stats().stream;
  assert.notEqual(b, a);
  assert.deepEqual(sent.filter((x) => x.stream === b).map((x) => x.seq), [1, 2, 3, 4], 'starts at 1 in its own stream');
  o.close();
  // Writable again (issue 12 item 5: seq used to restart at 1 here, in the same identity).
  o = open(dir);
  i = run(o, i, 20, sent);
  assert.equal(o.stats().stream, a, 'the outbox proves continuity of its stream: it goes on');
  o.close();
  const per = assertStreams(sent);
  assert.equal(per.size, 2);
});

test('unwritable dir that becomes writable while running: the memory stream goes on, stored rows of the earlier run follow, nothing collides', () => {
  const dir = tempDir();
  const sent: Sent[] = [];
  // An earlier run left unsent batches (broker down) with seqs 1..6.
  let o = open(dir);
  let i = run(o, 0, 30, [], false);
  const old = o.stats().stream;
  o.close();
  // Now the data dir is a mount that is not there yet: the path refuses.
  const real = `${dir}-mnt`;
  fs.renameSync(dir, real);
  fs.writeFileSync(dir, 'placeholder');
  o = open(dir);
  i = run(o, i, 15, sent); // memory stream: seqs 1, 2, 3, sent and acknowledged
  const mem = o.stats().stream;
  assert.notEqual(mem, old);
  fs.rmSync(dir);
  fs.renameSync(real, dir); // the mount appears
  reopenNow(o);
  i = run(o, i, 25, sent);
  assert.equal(o.stats().writable, true);
  assert.equal(o.stats().stream, mem, 'the stream in use is now reserved on disk');
  // The earlier run's batches went out too, under their own stream and seq.
  const olds = sent.filter((x) => x.stream === old);
  assert.deepEqual(olds.flatMap((x) => x.values), [...Array(30).keys()], 'every stored reading of the earlier run, in order');
  o.close();
  // And the next run continues the memory stream above everything it handed out.
  o = open(dir);
  assert.equal(o.stats().stream, mem);
  run(o, i, 10, sent);
  o.close();
  assertStreams(sent);
});

test('lost outbox (deleted, card replaced): a new stream, seq from 1', () => {
  const dir = tempDir();
  const sent: Sent[] = [];
  let o = open(dir);
  let i = run(o, 0, 25, sent);
  const a = o.stats().stream;
  o.close();
  for (const f of fs.readdirSync(dir)) fs.rmSync(`${dir}/${f}`);
  o = open(dir);
  i = run(o, i, 10, sent);
  assert.notEqual(o.stats().stream, a);
  assert.deepEqual(sent.filter((x) => x.stream === o.stats().stream).map((x) => x.seq), [1, 2]);
  o.close();
  assertStreams(sent);
});

test('clock behind: seq does not follow the wall clock, in a working or a refusing data dir', () => {
  const dir = tempDir();
  const sent: Sent[] = [];
  let t = 1_800_000_000_000;
  let o = open(dir, { now: () => t });
  let i = run(o, 0, 20, sent);
  o.close();
  t = 1_500_000_000_000; // RTC-less board booting with an old time
  o = open(dir, { now: () => t });
  i = run(o, i, 20, sent);
  o.close();
  const per = assertStreams(sent);
  assert.equal(per.size, 1, 'a working outbox keeps its stream whatever the clock says');
  assert.ok([...per.values()][0].every((s) => s < 1e6), 'seqs are counters, not timestamps');
});

test('both: clock behind and a refusing data dir, between runs on a working one: never a lower seq within a stream (issue 12 item 11)', () => {
  const dir = tempDir();
  const sent: Sent[] = [];
  let t = Date.now();
  let o = open(blocked(), { now: () => t });
  let i = run(o, 0, 20, sent);
  o.close();
  t -= 3_600_000; // the clock went back an hour (seen: 1,796,005,028,492 then 1,796,001,436,508)
  o = open(blocked(), { now: () => t });
  i = run(o, i, 20, sent);
  o.close();
  o = open(dir, { now: () => t });
  i = run(o, i, 20, sent);
  o.close();
  o = open(blocked(), { now: () => t - 86_400_000 });
  run(o, i, 20, sent);
  o.close();
  const per = assertStreams(sent);
  assert.equal(per.size, 4, 'each run without a durable reservation has its own stream');
});

test('the disk refuses mid-run once the reservation is used up: the stream ends there, unpublished batches move, published ones keep theirs', () => {
  const dir = tempDir();
  const sent: Sent[] = [];
  const o = open(dir);
  let i = run(o, 0, 10, sent);
  const a = o.stats().stream;
  const db = (o as unknown as { store: { db: { transaction: unknown } } }).store.db;
  const orig = (db.transaction as (f: () => void) => () => void).bind(db);
  let fail = true;
  db.transaction = (fn: () => void) => (fail ? () => { throw new Error('SQLITE_FULL: database or disk is full'); } : orig(fn));
  (o as unknown as { seq: { next: number } }).seq.next += 10_000; // the reserved range is used up
  i = run(o, i, 10, sent);
  const b = o.stats().stream;
  assert.notEqual(b, a);
  fail = false;
  run(o, i, 10, sent);
  assert.equal(o.stats().stream, b, 'the new stream is reserved on disk once writes work');
  o.close();
  const per = assertStreams(sent);
  assert.deepEqual([...per.keys()], [a, b]);
  assert.ok(per.get(b)![0] > 10_000, 'seqs of the new stream continue from where the old one could not reserve (row keys stay in order)');
});
