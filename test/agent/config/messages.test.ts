// Issue 12 item 7 (and 8): each message an operator met, reproduced, then what it says now.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { requireTool } from '../../helpers/system.js';
import { parseConfigText, loadConfigFile, ConfigInvalidError } from '../../../agent/config/load.js';
import { preflight } from '../../../agent/config/preflight.js';
import { formatError } from '../../../agent/config/errors.js';
import { MAX_CONFIG_BYTES } from '../../../agent/config/read-bounded.js';
import { BUNDLE, tempDir, writeConfig } from '../../helpers/daemon.js';

const base = `uplink:\n  mqtt:\n    url: mqtt://127.0.0.1:1883\n`;

function errorsOf(text: string) {
  const r = parseConfigText(text);
  assert.equal(r.ok, false, 'expected the config to be refused');
  return r.ok ? [] : r.errors;
}

test('a negative duration says so, not zod\'s "Too small: expected number to be >=0"', () => {
  const errs = errorsOf(`${base}    keepalive: -5\n`);
  assert.equal(errs.length, 1);
  assert.equal(errs[0].path, 'uplink.mqtt.keepalive');
  assert.equal(errs[0].message, 'invalid duration -5: a duration cannot be negative');
  assert.doesNotMatch(errs[0].message, /Too small/);
  const s = errorsOf(`${base}buffer: { maxBytes: -1 }\n`);
  assert.equal(s[0].message, 'invalid size -1: a size cannot be negative');
});

test('pollInterval: 0 for sim is refused by the schema (it used to pass check and fail at run time)', () => {
  const errs = errorsOf(`${base}sources:\n  - { id: s, driver: sim, pollInterval: 0, points: [ { name: w, wave: sine } ] }\n`);
  assert.deepEqual(errs.map((e) => [e.path, e.message]), [['sources[0].pollInterval', 'must be greater than 0 (e.g. 250ms, 10s)']]);
  assert.equal(errs[0].line, 5);
});

test('an empty list names the count in plain words', () => {
  const errs = errorsOf(`${base}sources:\n  - { id: s, driver: sim, points: [] }\n`);
  assert.equal(errs[0].message, 'expected at least 1 item');
});

test('one YAML typo gives one error (the parser\'s follow-on errors are not repeated)', () => {
  // Before: "Nested mappings are not allowed..." and "Implicit keys need to be on a single line".
  const a = errorsOf(`${base}     qos: 1\n    topicPrefix: e\n`);
  assert.equal(a.length, 1, a.map((e) => formatError(e)).join('\n'));
  assert.equal(a[0].path, '(yaml)');
  // Before: "Missing closing 'quote" and "Flow map ... must end with a }".
  const b = errorsOf(`uplink:\n  mqtt: { url: 'mqtt://x }\nbuffer: {}\n`);
  assert.equal(b.length, 1);
  assert.match(b[0].message, /quote/);
});

test('a misspelled required key is one error with a suggestion, not "unknown key" plus "required"', () => {
  const errs = errorsOf(`uplnk:\n  mqtt: { url: "mqtt://x" }\n`);
  assert.deepEqual(errs.map((e) => formatError(e)), ['uplnk: unknown key "uplnk"; did you mean "uplink"?']);
  const p = errorsOf(`${base}sources:\n  - id: m\n    driver: modbus-tcp\n    host: h\n    points:\n      - { name: a, table: holding, adress: 1, type: int16 }\n`);
  assert.equal(p.length, 1);
  assert.equal(p[0].message, 'unknown key "adress"; did you mean "address"?');
  assert.equal(p[0].line, 9);
});

test('a pipeline match that fits no source/point is a warning at check, naming what exists', () => {
  const dir = tempDir();
  const file = writeConfig(dir, `agent: { dataDir: ${dir}/data }\n${base}sources:\n  - { id: boiler, driver: sim, points: [ { name: temp, wave: sine } ] }\npipelines:\n  - { match: "boiler/*", stages: [] }\n  - { match: "boilr/*", stages: [] }\n  - { match: "*/temp", stages: [] }\n`);
  const pre = preflight(loadConfigFile(file).config, loadConfigFile(file).where);
  assert.deepEqual(pre.errors, []);
  assert.equal(pre.warnings.length, 1);
  assert.equal(pre.warnings[0].path, 'pipelines[1].match');
  assert.match(pre.warnings[0].message, /matches no source\/point.*known: boiler\/temp/);
  const r = spawnSync(process.execPath, [BUNDLE, 'check', '--config', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^warning: pipelines\[1\]\.match: matches no source\/point/m);
  assert.match(r.stdout, /1 warning/);
});

test('a serial source whose point names come from the data (json) does not trigger the warning for its own globs', () => {
  const dir = tempDir();
  const file = writeConfig(dir, `${base}sources:\n  - { id: w, driver: serial, port: /dev/ttyX, parse: json }\npipelines:\n  - { match: "w/temp", stages: [] }\n  - { match: "x/*", stages: [] }\n`);
  const pre = preflight(loadConfigFile(file).config);
  assert.deepEqual(pre.warnings.filter((w) => w.path.startsWith('pipelines')).map((w) => w.path), ['pipelines[1].match']);
});

// As root nothing is unwritable: run the CLI as nobody then (setpriv, util-linux).
const asUser = process.getuid?.() === 0 ? (requireTool('setpriv', 'util-linux') ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : undefined) : [];
// nobody must be able to read the bundle and its node_modules (a checkout under a 0700 home cannot).
const nobodyCanRun = asUser === undefined ? false : asUser.length === 0 || spawnSync(asUser[0], [...asUser.slice(1), process.execPath, BUNDLE, '--version']).status === 0;

test('an existing but unwritable data dir is called that (was: "does not exist and cannot be created"), in check and in the daemon\'s log', { skip: asUser === undefined ? 'running as root without setpriv' : !nobodyCanRun ? `user nobody cannot run ${BUNDLE} (checkout not world-readable)` : false }, async () => {
  const dir = tempDir();
  fs.chmodSync(dir, 0o755);
  const data = path.join(dir, 'data');
  fs.mkdirSync(data, { mode: 0o755 }); // owned by us, not writable by the user the CLI runs as below
  if (asUser!.length === 0) fs.chmodSync(data, 0o555);
  const file = writeConfig(dir, `agent: { id: ro, dataDir: ${data} }\n${base}control: { socket: ${dir}/agent.sock }\n`);
  fs.chmodSync(file, 0o644);
  const run = (args: string[]) => spawnSync(asUser![0] ?? process.execPath, [...asUser!.slice(1), ...(asUser!.length ? [process.execPath] : []), BUNDLE, ...args], { encoding: 'utf8', timeout: 20_000 });
  const chk = run(['check', '--config', file]);
  assert.equal(chk.status, 0, chk.stderr);
  assert.match(chk.stderr, new RegExp(`warning: agent\\.dataDir: ${data} exists but is not writable by this user`));
  const d = spawn(asUser![0] ?? process.execPath, [...asUser!.slice(1), ...(asUser!.length ? [process.execPath] : []), BUNDLE, 'run', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  d.stdout.on('data', (x) => (out += x));
  const end = Date.now() + 15_000;
  while (!/edge-agent started/.test(out) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  d.kill('SIGTERM');
  await new Promise((r) => d.once('exit', r));
  const line = out.split('\n').find((l) => l.includes('cannot open the outbox')) ?? '';
  assert.match(line, /the data dir exists but this user cannot create files in it/, out);
  assert.doesNotMatch(line, /does not exist/);
  assert.doesNotMatch(out, /"\[redacted\]"/);
});

test('outbox: CANTOPEN on an existing dir is reported as not writable; EACCES is not doubled', async () => {
  const { Outbox } = await import('../../../agent/outbox/outbox.js');
  const lines: { obj: Record<string, unknown>; msg: string }[] = [];
  const log = { error: (obj: Record<string, unknown>, msg: string) => lines.push({ obj, msg }), info() {}, warn() {}, debug() {}, child() { return log; } };
  // A directory named outbox.db makes SQLite answer CANTOPEN although the data dir exists
  // (what an unwritable dir gives a non-root user); as root chmod would not stop us.
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, 'outbox.db'));
  const ob = new Outbox({ agentId: 'a', dataDir: dir, maxBytes: 1 << 20, overflow: 'drop-oldest', batch: { maxReadings: 10, maxBytes: 1 << 16 }, log: log as never });
  assert.equal(lines.length, 1);
  assert.match(lines[0].msg, /exists but this user cannot create files in it/);
  assert.doesNotMatch(lines[0].msg, /does not exist/);
  ob.close();
  // A data dir whose parent is a file: Node says "ENOTDIR: not a directory, mkdir ...".
  const f = path.join(tempDir(), 'file');
  fs.writeFileSync(f, 'x');
  lines.length = 0;
  const ob2 = new Outbox({ agentId: 'a', dataDir: path.join(f, 'sub'), maxBytes: 1 << 20, overflow: 'drop-oldest', batch: { maxReadings: 10, maxBytes: 1 << 16 }, log: log as never });
  assert.equal(lines.length, 1);
  const err = String(lines[0].obj.err);
  assert.match(err, /^E[A-Z]+: /);
  assert.doesNotMatch(err, /^(E[A-Z]+): \1:/, err);
  ob2.close();
});

test('a config file over 1 MiB is refused with one line, before parsing (was: heap out of memory)', () => {
  const dir = tempDir();
  const file = path.join(dir, 'big.yaml');
  // 50 MB of valid YAML comments: parsing it is what ran the daemon out of heap.
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, base);
  const chunk = Buffer.alloc(1 << 20, '# filler filler filler filler filler filler filler\n');
  for (let i = 0; i < 50; i++) fs.writeSync(fd, chunk);
  fs.closeSync(fd);
  assert.throws(() => loadConfigFile(file), (e: unknown) => e instanceof ConfigInvalidError && /more than the 1 MiB a config file may have/.test(e.errors[0].message));
  for (const cmd of ['check', 'run']) {
    // The unit's heap cap: without the size check this dies with "heap out of memory", exit 134.
    const r = spawnSync(process.execPath, ['--max-old-space-size=96', BUNDLE, cmd, '--config', file], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 1, `${cmd}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n').filter((l) => !/^\d+ errors?$/.test(l));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /big\.yaml is \d+ bytes, more than the 1 MiB a config file may have \(1048576 bytes\)/);
  }
  // Exactly at the limit is fine (size, not content, is what is refused).
  const ok = path.join(dir, 'ok.yaml');
  fs.writeFileSync(ok, base + '#'.repeat(MAX_CONFIG_BYTES - base.length - 1) + '\n');
  assert.doesNotThrow(() => loadConfigFile(ok));
});
