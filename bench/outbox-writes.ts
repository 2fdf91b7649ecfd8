/**
 * Bytes written to storage per reading by the outbox (what wears an SD card), from
 * /proc/self/io write_bytes, for the steady states that matter (the daemon runs with deferWrites):
 *  - online: the broker acknowledges each batch before the next flush: nothing is written;
 *  - slow-ack: acknowledgements come later than a flush: each batch is written, then deleted;
 *  - offline: each flush only appends (the backlog grows).
 * Runs the flush cycles back to back (no sleeping): the write pattern per flush is what counts.
 * Usage: node --import tsx bench/outbox-writes.ts [readingsPerFlush=100] [flushes=3000] [dir]
 * `dir` must be on a real block device (tmpfs does not count write_bytes).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { Outbox } from '../agent/outbox/outbox.js';
import { silentLogger } from '../core/log.js';

export function ioWriteBytes(): { writeBytes: number; wchar: number } {
  const io = fs.readFileSync('/proc/self/io', 'utf8');
  const get = (k: string) => Number(new RegExp(`^${k}: (\\d+)`, 'm').exec(io)?.[1] ?? 0);
  return { writeBytes: get('write_bytes'), wchar: get('wchar') };
}

export type Mode = 'online' | 'slow-ack' | 'offline';

export function measure(opts: { perFlush: number; flushes: number; mode: Mode; dir: string; autocheckpoint?: number }) {
  const dataDir = fs.mkdtempSync(path.join(opts.dir, 'edge-writes-'));
  const o = new Outbox({ agentId: 'bench', dataDir, maxBytes: 1 << 30, overflow: 'drop-oldest', batch: { maxReadings: 500, maxBytes: 256 * 1024 }, log: silentLogger, deferWrites: true });
  if (opts.autocheckpoint !== undefined) (o as unknown as { store: { db: Database.Database } }).store.db.pragma(`wal_autocheckpoint = ${opts.autocheckpoint}`);
  let ts = Date.now();
  let i = 0;
  let sent = 0;
  let prev: { seq: number; n: number }[] = [];
  const cycle = () => {
    for (let k = 0; k < opts.perFlush; k++) o.add({ source: 'boiler', point: k % 2 ? 'temperature' : 'pressure', ts: ts++, value: 20 + (i++ % 1000) / 10 });
    o.flush();
    if (opts.mode === 'offline') return;
    const fresh = o.next(sent, 100);
    if (fresh.length) sent = fresh.at(-1)!.seq;
    if (opts.mode === 'online') for (const b of fresh) o.ack(b.seq, b.n);
    else {
      for (const b of prev) o.ack(b.seq, b.n); // acknowledged one flush late: already on disk
      prev = fresh;
    }
  };
  for (let k = 0; k < 200; k++) cycle(); // warm up: tables and WAL at their steady size
  const a = ioWriteBytes();
  for (let k = 0; k < opts.flushes; k++) cycle();
  const b = ioWriteBytes();
  o.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  const readings = opts.perFlush * opts.flushes;
  return { readings, writeBytesPerReading: (b.writeBytes - a.writeBytes) / readings, syscallBytesPerReading: (b.wchar - a.wchar) / readings, writeBytesPerFlush: (b.writeBytes - a.writeBytes) / opts.flushes };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const perFlush = Number(process.argv[2] ?? 100);
  const flushes = Number(process.argv[3] ?? 3000);
  const dir = process.argv[4] ?? os.tmpdir();
  const out: Record<string, unknown> = {};
  for (const mode of ['online', 'slow-ack', 'offline'] as const) {
    for (const autocheckpoint of mode === 'online' ? [1000] : [100, 1000, 4000]) {
      out[`${mode}_ckpt${autocheckpoint}`] = measure({ perFlush, flushes, mode, dir, autocheckpoint });
    }
  }
  console.log(JSON.stringify({ name: 'outbox-writes', perFlush, flushes, figures: out }));
}
