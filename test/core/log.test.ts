import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger, isJournal, withSyslogPrefix } from '../../core/log.js';

test('log lines to the journal carry the syslog priority of their level, and stay JSON after it', async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'log-')), 'out');
  const fd = fs.openSync(file, 'w');
  const st = fs.fstatSync(fd);
  assert.equal(isJournal(fd, `${st.dev}:${st.ino}`), true);
  assert.equal(isJournal(fd, `${st.dev}:${st.ino + 1}`), false, 'another stream (a pipe to a collector) gets no prefix');
  const log = createLogger('trace', { destination: fd, pretty: false, journal: true });
  log.trace('t'); log.debug('d'); log.info('i'); log.warn('w'); log.error('e'); log.fatal('f');
  log.flush();
  await new Promise((r) => setTimeout(r, 50));
  fs.closeSync(fd);
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  // pino's fatal() flushes synchronously and may overtake the first async write into a file (not a
  // concern on the journal's socket): compare in level order.
  lines.sort((a, b) => JSON.parse(a.slice(3)).level - JSON.parse(b.slice(3)).level);
  assert.deepEqual(lines.map((l) => l.slice(0, 3)), ['<7>', '<7>', '<6>', '<4>', '<3>', '<2>']);
  assert.deepEqual(lines.map((l) => JSON.parse(l.slice(3)).msg), ['t', 'd', 'i', 'w', 'e', 'f']);
});

test('a line that is not a pino JSON line passes unchanged', () => {
  assert.equal(withSyslogPrefix('plain\n'), 'plain\n');
});
