import type Database from 'better-sqlite3';
import { rebatch } from './encode.js';

interface Row { seq: number; n: number; bytes: number; payload: Buffer }

/**
 * `overflow: thin`: halve the resolution of the oldest part of the backlog instead of cutting it.
 * Over the oldest batches holding about `targetBytes` of payload, every other reading of each
 * source/point is removed (the first, third, fifth... are kept, so each series keeps its first
 * point and its time span). Batches keep their stream and seq (a consumer that already has the full
 * batch dedupes on them). Repeated passes halve again: old data degrades to 1/2, 1/4, ... resolution.
 */
export function thinBatches(db: Database.Database, targetBytes: number) {
  const rows = db.prepare('SELECT seq, n, bytes, payload FROM batches ORDER BY seq').iterate() as IterableIterator<Row>;
  const parity = new Map<string, boolean>();
  const upd = db.prepare('UPDATE batches SET n = ?, bytes = ?, payload = ?, thinned = thinned + 1 WHERE seq = ?');
  const del = db.prepare('DELETE FROM batches WHERE seq = ?');
  const todo: { seq: number; n: number; bytes: number; payload?: string }[] = [];
  let seen = 0;
  let freedBytes = 0;
  let removedReadings = 0;
  let deletedRows = 0;
  for (const row of rows) {
    if (seen >= targetBytes && todo.length > 0) break;
    seen += row.bytes;
    const text = row.payload.toString('utf8');
    const doc = JSON.parse(text) as { readings: Record<string, unknown>[] };
    const kept: string[] = [];
    for (const r of doc.readings) {
      const key = `${r.source}/${r.point}`;
      const skip = parity.get(key) === true;
      parity.set(key, !skip);
      if (!skip) kept.push(JSON.stringify(r));
    }
    const removed = doc.readings.length - kept.length;
    if (removed === 0) continue;
    removedReadings += removed;
    if (kept.length === 0) {
      todo.push({ seq: row.seq, n: 0, bytes: row.bytes });
      continue;
    }
    const payload = rebatch(text, kept);
    const bytes = Buffer.byteLength(payload);
    freedBytes += row.bytes - bytes;
    todo.push({ seq: row.seq, n: kept.length, bytes, payload });
  }
  for (const t of todo) {
    if (t.payload === undefined) {
      del.run(t.seq);
      freedBytes += t.bytes;
      deletedRows++;
    } else upd.run(t.n, t.bytes, t.payload, t.seq);
  }
  return { freedBytes, removedReadings, deletedRows };
}
