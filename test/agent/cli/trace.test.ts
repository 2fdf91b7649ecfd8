import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { BUNDLE } from '../../helpers/daemon.js';

// The unit runs without --enable-source-maps; `debug trace` maps a journal stack trace afterwards.
test('debug trace maps bundle positions to the TypeScript line, using the map beside the bundle', () => {
  const bundle = fs.readFileSync(BUNDLE, 'utf8');
  const literal = 'outbox writes work again';
  const i = bundle.indexOf(literal);
  assert.ok(i > 0, 'literal present in the bundle');
  const before = bundle.slice(0, i);
  const line = before.split('\n').length;
  const col = i - before.lastIndexOf('\n');
  const src = fs.readFileSync('agent/outbox/outbox.ts', 'utf8').split('\n');
  const srcLine = src.findIndex((l) => l.includes(literal)) + 1;
  const trace = `Error: boom\n    at Outbox.flush (file:///opt/edge-agent/edge-agent.mjs:${line}:${col})\n    at node:internal/timers:1:1\n`;
  const r = spawnSync(process.execPath, [BUNDLE, 'debug', 'trace'], { input: trace, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`at Outbox\\.flush \\(agent/outbox/outbox\\.ts:${srcLine}:\\d+\\)`));
  assert.match(r.stdout, /node:internal\/timers:1:1/, 'other frames untouched');
});

test('debug trace without a readable map says which file and how to give one', () => {
  const r = spawnSync(process.execPath, [BUNDLE, 'debug', 'trace', '--map', '/nonexistent.map'], { input: 'x', encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cannot read the source map \/nonexistent\.map.*--map/);
});
