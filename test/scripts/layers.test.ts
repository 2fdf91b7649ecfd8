import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

const script = path.resolve('scripts/check-layers.mjs');

test('the source tree follows the one-way layer rule', () => {
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /layers ok: \d+ modules/);
});

test('an import against the grain, or between middle-layer siblings, is reported with file and line', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'layers-'));
  const write = (rel: string, body: string) => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), body);
  };
  write('core/reading.ts', "import { Agent } from '../agent/runtime/agent.js';\n");
  write('agent/runtime/agent.ts', "export class Agent {}\n");
  write('drivers/sim/index.ts', "import type { Reading } from '../../core/reading.js';\n\nimport { Outbox } from '../../agent/outbox/outbox.js';\n");
  write('agent/outbox/outbox.ts', "export class Outbox {}\n");
  write('agent/cli/main.ts', "import { Agent } from '../runtime/agent.js';\n");
  const r = spawnSync(process.execPath, [script, root], { encoding: 'utf8' });
  fs.rmSync(root, { recursive: true, force: true });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /core\/reading\.ts:1: core \(layer 0\) imports agent\/runtime\/agent\.ts from runtime \(layer 2\): against the grain/);
  assert.match(r.stderr, /drivers\/sim\/index\.ts:3: drivers imports its sibling outbox/);
  assert.doesNotMatch(r.stderr, /cli\/main/);
  assert.match(r.stderr, /2 layering violations/);
});
