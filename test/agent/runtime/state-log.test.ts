import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { SourceRunner } from '../../../agent/runtime/source-runner.js';
import { STATE_LOG_BURST, STATE_LOG_WINDOW_MS } from '../../../agent/runtime/state-log.js';
import type { DriverDefinition } from '../../../drivers/types.js';
import { ManualClock } from '../../helpers/manual-clock.js';

type Line = { level: number; msg: string; source?: string; state?: string; detail?: string; suppressed?: number; changes?: Record<string, number> };

function runner() {
  const clock = new ManualClock();
  const lines: Line[] = [];
  const log = pino({ level: 'debug', base: undefined }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const def = { name: 'fake', create: () => ({ open: async () => {}, close: async () => {} }) } as unknown as DriverDefinition;
  const r = new SourceRunner({ id: 'plc', driver: 'fake', enabled: true } as never, def, () => {}, log, clock, '/tmp');
  return { r, clock, lines, stateLines: () => lines.filter((l) => l.state !== undefined) };
}

test('a flapping source: at most 5 state lines a minute plus one summary with the counts; the last line is the current state', async () => {
  const { r, clock, stateLines } = runner();
  await r.open();
  // As measured against a misbehaving device: 1,419 up/down changes in 240 s.
  const total = 1419;
  const every = 240_000 / total;
  for (let i = 0; i < total; i++) {
    r.ctx.setState(i % 2 === 0 ? 'down' : 'ok', i % 2 === 0 ? 'connection to 10.0.0.5:502 lost' : undefined);
    clock.advance(every);
  }
  clock.advance(STATE_LOG_WINDOW_MS); // the last window ends
  const lines = stateLines();
  console.log(`# ${total} state changes in 240 s -> ${lines.length} log lines`);
  assert.ok(lines.length <= 5 * (STATE_LOG_BURST + 1), `${lines.length} lines`);
  // The first transitions are kept as they happened.
  assert.deepEqual(lines.slice(0, STATE_LOG_BURST).map((l) => l.msg), ['source down', 'source ok', 'source down', 'source ok', 'source down']);
  assert.equal(lines[0].detail, 'connection to 10.0.0.5:502 lost');
  assert.equal(lines[0].source, 'plc');
  // Nothing is lost from the count: logged one by one + suppressed = every change.
  const summaries = lines.filter((l) => l.suppressed !== undefined);
  assert.ok(summaries.length >= 4, 'one summary per window');
  const counted = summaries.reduce((n, l) => n + l.suppressed!, 0);
  assert.equal(counted + (lines.length - summaries.length), total);
  for (const s of summaries) {
    assert.equal(Object.values(s.changes!).reduce((a, b) => a + b, 0), s.suppressed);
    assert.match(s.msg, /^source state changed \d+ more times in \d+ s \(not logged one by one\); now (ok|down)$/);
  }
  // The last of 1,419 changes (the first one `down`) was to `down`: the log ends saying so, as a warning.
  const last = lines.at(-1)!;
  assert.equal(last.state, 'down');
  assert.equal(last.detail, 'connection to 10.0.0.5:502 lost');
  assert.notEqual(last.suppressed, undefined);
  assert.equal(last.level, 40);
});

test('a quiet source logs every change; closing writes a pending summary at once', async () => {
  const { r, clock, stateLines } = runner();
  await r.open();
  r.ctx.setState('ok');
  clock.advance(10 * 60_000);
  r.ctx.setState('down', 'no answer from unit 1');
  clock.advance(10 * 60_000);
  r.ctx.setState('ok');
  assert.deepEqual(stateLines().map((l) => [l.msg, l.level]), [['source ok', 30], ['source down', 40], ['source ok', 30]]);

  // A burst right before stop: the summary is not left waiting for the window's end.
  clock.advance(10 * 60_000);
  for (let i = 0; i < 20; i++) r.ctx.setState(i % 2 === 0 ? 'backing-off' : 'ok', 'x');
  r.ctx.setState('down', 'gone');
  const before = stateLines().length;
  assert.equal(before, 3 + STATE_LOG_BURST);
  await r.close();
  const last = stateLines().at(-1)!;
  assert.equal(stateLines().length, before + 1);
  assert.equal(last.suppressed, 16);
  assert.deepEqual(last.changes, { 'backing-off': 7, ok: 8, down: 1 });
  assert.equal(last.state, 'down');
  assert.equal(last.detail, 'gone');
  assert.equal(last.level, 40);
  assert.equal(clock.pending, 0, 'no timer left behind');
});
