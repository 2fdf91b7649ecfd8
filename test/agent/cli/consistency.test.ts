// Issue 12 item 10: the CLI behaves the same way across commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BUNDLE, tempDir, writeConfig } from '../../helpers/daemon.js';
import { Outbox } from '../../../agent/outbox/outbox.js';
import { silentLogger } from '../../../core/log.js';
import { formatStatus } from '../../../agent/cli/status.js';

const cli = (...args: string[]) => spawnSync(process.execPath, [BUNDLE, ...args], { encoding: 'utf8', timeout: 20_000 });

test('buffer stats takes --config like the others (agent.dataDir of the file); --data-dir still wins', () => {
  const dir = tempDir();
  const data = path.join(dir, 'data');
  const ob = new Outbox({ agentId: 'a', dataDir: data, maxBytes: 1 << 20, overflow: 'drop-oldest', batch: { maxReadings: 10, maxBytes: 1 << 16 }, log: silentLogger });
  ob.add({ source: 's', point: 'p', ts: 1, value: 1 });
  ob.flush();
  ob.close();
  const file = writeConfig(dir, `agent: { dataDir: data }\nuplink: { mqtt: { url: "mqtt://127.0.0.1:1" } }\n`);
  const r = cli('buffer', 'stats', '--config', file, '--json');
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.file, path.join(data, 'outbox.db'));
  assert.equal(s.readings, 1);
  const other = cli('buffer', 'stats', '--config', file, '--data-dir', path.join(dir, 'elsewhere'));
  assert.equal(other.status, 1);
  assert.match(other.stderr, /no outbox at .*elsewhere\/outbox\.db/);
  const text = cli('buffer', 'stats', '-c', file);
  assert.match(text.stdout, /^readings\s+1$/m);
});

test('under --json, errors are JSON on stdout (failures exit 1, usage errors exit 2)', () => {
  const miss = cli('buffer', 'stats', '--data-dir', '/nonexistent/dir', '--json');
  assert.equal(miss.status, 1);
  assert.deepEqual(JSON.parse(miss.stdout), { ok: false, error: 'no outbox at /nonexistent/dir/outbox.db (is --data-dir right?)' });
  const status = cli('status', '--socket', '/nonexistent/agent.sock', '--json');
  assert.equal(status.status, 1);
  assert.equal(JSON.parse(status.stdout).ok, false);
  const usage = cli('buffer', 'stats', '--bogus', '--json');
  assert.equal(usage.status, 2);
  assert.deepEqual(JSON.parse(usage.stdout), { ok: false, error: "unknown option '--bogus'", usage: true });
  // Without --json: one line of prose on stderr, nothing on stdout.
  const plain = cli('buffer', 'stats', '--data-dir', '/nonexistent/dir');
  assert.equal(plain.stdout, '');
  assert.equal(plain.stderr, 'edge-agent: no outbox at /nonexistent/dir/outbox.db (is --data-dir right?)\n');
});

test('one notation for defaults in every --help: "(default: X)"', () => {
  const commands = [['run'], ['check'], ['status'], ['buffer', 'stats'], ['modbus', 'read'], ['modbus', 'scan'], ['modbus', 'plan'], ['serial', 'list'], ['serial', 'monitor'], ['gpio', 'read'], ['gpio', 'watch'], ['debug', 'profile'], ['debug', 'heap'], ['debug', 'trace']];
  let defaults = 0;
  for (const c of commands) {
    const r = cli(...c, '--help');
    assert.equal(r.status, 0, `${c.join(' ')}: ${r.stderr}`);
    const help = r.stdout.replace(/\n\s+/g, ' '); // commander wraps long descriptions
    assert.doesNotMatch(help, /\(default: "/, `${c.join(' ')}: quoted default`);
    assert.doesNotMatch(help, /\(default [^:]/i, `${c.join(' ')}: "(default X" without the colon`);
    assert.doesNotMatch(help, /\(default:[^)]*\)\s*\(default:/, `${c.join(' ')}: default said twice`);
    defaults += (help.match(/\(default: /g) ?? []).length;
  }
  assert.ok(defaults > 20, `${defaults} defaults shown`);
});

test('serial monitor on a missing port says so once', () => {
  const r = cli('serial', 'monitor', '--port', '/dev/ttyEDGE-NONEXISTENT', '--socket', '/nonexistent/agent.sock');
  assert.equal(r.status, 1);
  const all = r.stdout + r.stderr;
  assert.equal(all.match(/cannot open/g)?.length, 1, all);
  assert.match(r.stderr, /^edge-agent: cannot open \/dev\/ttyEDGE-NONEXISTENT: No such file or directory$/m);
});

test('counts read as English: 1 connect, 1 batch, 1 reading; check says 1 source', () => {
  const s = formatStatus({
    agent: 'a', version: '1', pid: 1, startedAt: 1, config: { version: 0, origin: 'file', hash: '' }, configState: null,
    link: { state: 'connected', since: 1, inflight: 0, connects: 1, disconnects: 1, batchesAcked: 0, lastLatencyMs: 0 },
    outbox: { rows: 1, readings: 1, payloadBytes: 1, fileBytes: 1, capBytes: 1, oldestTs: null, droppedOverflow: 0, droppedThinned: 0, droppedMemory: 0 },
    sources: [],
  }, 2);
  assert.match(s, /1 connect, 1 drop,/);
  assert.match(s, /1 batch, 1 reading, 1 of 1 byte,/);
  assert.doesNotMatch(s, /\b1 (connects|drops|batches|readings|bytes)\b/);
  const dir = tempDir();
  const file = writeConfig(dir, `agent: { dataDir: ${dir}/data }\nuplink: { mqtt: { url: "mqtt://127.0.0.1:1" } }\nsources:\n  - { id: s, driver: sim, points: [ { name: w, wave: sine } ] }\npipelines:\n  - { match: "*", stages: [] }\n`);
  const r = cli('check', '--config', file);
  assert.match(r.stdout, /ok \(agent [^,]+, 1 source, 1 pipeline\)/);
});
