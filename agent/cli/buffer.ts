import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import Database from 'better-sqlite3';
import { CliError, DEFAULT_DATA_DIR, plural } from './common.js';
import { loadConfigFile, ConfigInvalidError } from '../config/load.js';
import { formatError } from '../config/errors.js';
import { ROW_OVERHEAD } from '../outbox/outbox.js';

/** Reads the outbox without the daemon (read-only; WAL lets it run beside a live daemon). */
export function bufferStats(dataDir: string) {
  const file = path.join(dataDir, 'outbox.db');
  if (!fs.existsSync(file)) throw new CliError(`no outbox at ${file} (is --data-dir right?)`);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const agg = db.prepare('SELECT count(*) AS rows, coalesce(sum(n),0) AS readings, coalesce(sum(bytes),0) AS bytes, min(first_ts) AS oldestTs, min(seq) AS firstSeq, max(seq) AS lastSeq, coalesce(sum(thinned > 0),0) AS thinnedBatches FROM batches').get() as Record<string, number | null>;
    const meta = Object.fromEntries((db.prepare('SELECT key, value FROM meta').all() as { key: string; value: number }[]).map((r) => [r.key, r.value]));
    // The stream is the only text value in meta (absent in outboxes written before streams).
    const stream = typeof meta.stream === 'string' ? (meta.stream as unknown as string) : null;
    let fileBytes = 0;
    for (const f of [file, `${file}-wal`, `${file}-shm`]) if (fs.existsSync(f)) fileBytes += fs.statSync(f).size;
    return {
      file,
      rows: agg.rows ?? 0,
      readings: agg.readings ?? 0,
      payloadBytes: agg.bytes ?? 0,
      accountedBytes: (agg.bytes ?? 0) + (agg.rows ?? 0) * ROW_OVERHEAD,
      fileBytes,
      oldestTs: agg.oldestTs,
      oldest: agg.oldestTs ? new Date(agg.oldestTs).toISOString() : null,
      stream,
      firstSeq: agg.firstSeq,
      lastSeq: agg.lastSeq,
      nextSeq: meta.next_seq ?? null,
      thinnedBatches: agg.thinnedBatches,
      droppedOverflow: meta.dropped_overflow ?? 0,
      droppedThinned: meta.dropped_thinned ?? 0,
      droppedMemory: meta.dropped_memory ?? 0,
    };
  } finally {
    db.close();
  }
}

/** --data-dir, else agent.dataDir of --config (as `status` finds the socket), else the default. */
function dataDirOf(o: { dataDir?: string; config?: string }): string {
  if (o.dataDir) return o.dataDir;
  if (!o.config) return DEFAULT_DATA_DIR;
  try {
    return loadConfigFile(o.config).config.agent.dataDir;
  } catch (e) {
    if (e instanceof ConfigInvalidError) throw new CliError(e.errors.map((x) => formatError(x, e.file)).join('\n'));
    throw e;
  }
}

export function register(program: Command): void {
  const buffer = program.command('buffer').description('inspect the on-disk outbox');
  buffer
    .command('stats')
    .description('outbox size, rows, oldest reading, stream and seq, drop counters')
    .option('-d, --data-dir <dir>', `agent.dataDir of the agent (default: agent.dataDir of --config, else ${DEFAULT_DATA_DIR})`)
    .option('-c, --config <file>', 'config file of the agent (to find its data dir)')
    .option('--json', 'machine-readable output')
    .action((opts: { dataDir?: string; config?: string; json?: boolean }) => {
      const s = bufferStats(dataDirOf(opts));
      if (opts.json) {
        process.stdout.write(JSON.stringify(s) + '\n');
        return;
      }
      const lines = [
        ['outbox', s.file],
        ['batches', String(s.rows)],
        ['readings', String(s.readings)],
        ['payload', plural(s.payloadBytes, 'byte')],
        ['on disk', `${plural(s.fileBytes, 'byte')} (db + wal + shm)`],
        ['oldest reading', s.oldest ?? '-'],
        ['stream', s.stream ?? '- (none yet)'],
        ['seq', s.rows ? `${s.firstSeq}..${s.lastSeq} (a restart continues at ${s.nextSeq})` : `a restart continues at ${s.nextSeq ?? 1}`],
        ['dropped (overflow)', String(s.droppedOverflow)],
        ['dropped (thinned)', String(s.droppedThinned)],
        ['dropped (memory)', String(s.droppedMemory)],
      ];
      for (const [k, v] of lines) process.stdout.write(`${k.padEnd(20)} ${v}\n`);
    });
}
