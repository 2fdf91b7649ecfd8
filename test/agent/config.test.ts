import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseConfigText, loadConfigFile } from '../../agent/config/load.js';
import { formatError } from '../../agent/config/errors.js';
import { parseDuration, parseSize } from '../../core/units.js';
import { BUNDLE, REPO, tempDir, writeConfig } from '../helpers/daemon.js';

const base = `uplink:\n  mqtt:\n    url: mqtt://127.0.0.1:1883\n`;

test('durations and sizes in the SPEC forms', () => {
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('10s'), 10_000);
  assert.equal(parseDuration('5m'), 300_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration(1500), 1500);
  assert.equal(parseDuration('10 seconds'), undefined);
  assert.equal(parseDuration(-1), undefined);
  assert.equal(parseSize('64MiB'), 64 * 1024 * 1024);
  assert.equal(parseSize('512KiB'), 512 * 1024);
  assert.equal(parseSize(4096), 4096);
  assert.equal(parseSize('lots'), undefined);
});

test('defaults fill in a minimal config', () => {
  const r = parseConfigText(base);
  assert.ok(r.ok);
  assert.equal(r.config.uplink.mqtt.qos, 1);
  assert.equal(r.config.uplink.mqtt.topicPrefix, 'edge');
  assert.equal(r.config.buffer.maxBytes, 64 * 1024 * 1024);
  assert.equal(r.config.buffer.flushInterval, 1000);
  assert.equal(r.config.uplink.batch.maxReadings, 500);
  assert.equal(r.config.uplink.batch.maxBytes, 256 * 1024);
  assert.equal(r.config.agent.dataDir, '/var/lib/edge-agent');
  assert.ok(r.config.agent.id.length > 0, 'agent.id defaults to the hostname');
});

test('a misspelt key, a wrong type and a bad duration: all three reported with path and line:col', () => {
  const text = `agent:
  id: t1
  logLevle: debug
${base}    qos: high
buffer:
  flushInterval: 2 secs
`;
  const r = parseConfigText(text);
  assert.equal(r.ok, false);
  if (r.ok) return;
  const lines = r.errors.map((e) => formatError(e, 'config.yaml'));
  assert.deepEqual(lines, [
    'agent.logLevle: unknown key "logLevle" (config.yaml:3:3)',
    'uplink.mqtt.qos: expected one of 0, 1, 2 (config.yaml:7:10)',
    'buffer.flushInterval: invalid duration "2 secs": expected e.g. 250ms, 10s, 5m, 1h or integer milliseconds (config.yaml:9:18)',
  ]);
});

test('errors inside sources name the index path; unknown driver lists the choices', () => {
  const text = `${base}sources:
  - id: a
    driver: sim
    points:
      - { name: x, wave: sawtooth }
  - id: b
    driver: teleport
`;
  const r = parseConfigText(text);
  assert.equal(r.ok, false);
  if (r.ok) return;
  const byPath = Object.fromEntries(r.errors.map((e) => [e.path, e]));
  assert.match(byPath['sources[0].points[0].wave'].message, /expected one of sine, walk, counter, step, constant/);
  assert.equal(byPath['sources[0].points[0].wave'].line, 8);
  assert.match(byPath['sources[1].driver'].message, /unknown driver: expected one of .*sim/);
  assert.equal(byPath['sources[1].driver'].line, 10);
  // Cross-field checks run once every field is valid.
  const dup = parseConfigText(`${base}sources:
  - { id: a, driver: sim, points: [{ name: x, wave: counter }] }
  - { id: a, driver: sim, points: [{ name: y, wave: counter }] }
`);
  assert.equal(dup.ok, false);
  if (!dup.ok) assert.match(formatError(dup.errors[0]), /^sources\[1\]\.id: duplicate source id "a" \(also sources\[0\]\)/);
});

test('YAML syntax errors carry line:col too', () => {
  const r = parseConfigText(`${base}sources: [ {id: x\n`);
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.ok(r.errors[0].line! >= 4, JSON.stringify(r.errors));
});

test('relative paths resolve against the config file folder', () => {
  const dir = tempDir();
  const f = writeConfig(dir, `agent: { dataDir: ./data }\n${base}    passwordFile: secret.txt\n`);
  const { config } = loadConfigFile(f);
  assert.equal(config.agent.dataDir, path.join(dir, 'data'));
  assert.equal(config.uplink.mqtt.passwordFile, path.join(dir, 'secret.txt'));
});

test('edge-agent check: exit 0 on the demo, exit 1 with every error printed', () => {
  const ok = spawnSync(process.execPath, [BUNDLE, 'check', '--config', path.join(REPO, 'examples/demo.yaml')], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /ok/);
  const dir = tempDir();
  const bad = writeConfig(dir, `agent:\n  idd: x\n${base}buffer:\n  maxBytes: huge\n  flushInterval: 1 sec\n`);
  const r = spawnSync(process.execPath, [BUNDLE, 'check', '--config', bad], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /agent\.idd: unknown key "idd" \(.*config\.yaml:2:3\)/);
  assert.match(r.stderr, /buffer\.maxBytes: invalid size "huge".*:7:13\)/);
  assert.match(r.stderr, /buffer\.flushInterval: invalid duration "1 sec".*:8:18\)/);
  assert.match(r.stderr, /3 errors/);
  const usage = spawnSync(process.execPath, [BUNDLE, 'check'], { encoding: 'utf8' });
  assert.equal(usage.status, 2, 'missing --config is a usage error');
});

test('every example config validates', () => {
  const dir = path.join(REPO, 'examples');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length > 0);
  for (const f of files) {
    const r = parseConfigText(fs.readFileSync(path.join(dir, f), 'utf8'));
    assert.ok(r.ok, `${f}: ${r.ok ? '' : r.errors.map((e) => formatError(e, f)).join('; ')}`);
  }
});

test('the committed JSON Schema matches the zod schema (run `npm run schema` after changing it)', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/schema.ts', '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const schema = JSON.parse(fs.readFileSync('agent/config/config.schema.json', 'utf8'));
  assert.equal(schema.additionalProperties, false, 'unknown top-level keys must be errors for editors too');
  assert.ok(schema.properties.sources, 'sources described');
});
