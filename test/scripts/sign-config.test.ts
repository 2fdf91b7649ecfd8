import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { verifySignature } from '../../agent/control/signature.js';

const SCRIPT = path.join(import.meta.dirname, '../../scripts/sign-config.ts');
const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { encoding: 'utf8' });

test('sign-config: keygen, sign a YAML config, the signature verifies; invalid configs are refused', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-sign-'));
  const kg = run(['--keygen', dir]);
  assert.equal(kg.status, 0, kg.stderr);
  assert.equal(fs.statSync(path.join(dir, 'signing.pem')).mode & 0o777, 0o600);
  const cfg = path.join(dir, 'push.yaml');
  fs.writeFileSync(cfg, 'uplink: { mqtt: { url: "mqtt://broker:1883" } }\nsources:\n  - { id: a, driver: sim, points: [{ name: t, wave: constant, value: "\u00e9t\u00e9 \u20ac" }] }\n');
  const out = execFileSync(process.execPath, ['--import', 'tsx', SCRIPT, '--key', path.join(dir, 'signing.pem'), '--version', '9', cfg], { encoding: 'utf8' });
  const payload = JSON.parse(out);
  assert.equal(payload.version, 9);
  assert.equal(payload.config.sources[0].points[0].value, '\u00e9t\u00e9 \u20ac');
  assert.equal(verifySignature(9, payload.config, payload.signature, path.join(dir, 'signing.pub')), undefined);
  assert.match(verifySignature(10, payload.config, payload.signature, path.join(dir, 'signing.pub'))!, /does not verify/);

  fs.writeFileSync(cfg, 'uplink: { mqtt: { url: "mqtt://broker:1883" } }\nbuffer: { overflow: explode }\n');
  const bad = run(['--key', path.join(dir, 'signing.pem'), '--version', '9', cfg]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /buffer\.overflow: expected one of drop-oldest/);
  assert.equal(run(['--version', '9', cfg]).status, 2, 'no key: usage error');
});

test('sign-config --group publishes on {prefix}/groups/{group}/config/set; --agent and --group together is a usage error', async (t) => {
  const { startBroker } = await import('../helpers/broker.js');
  const { collect } = await import('../helpers/daemon.js');
  const broker = await startBroker();
  t.after(() => broker.stop());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-sign-'));
  assert.equal(run(['--keygen', dir]).status, 0);
  const cfg = path.join(dir, 'push.yaml');
  fs.writeFileSync(cfg, 'uplink: { mqtt: { url: "mqtt://broker:1883" } }\n');
  const sub = await collect(broker.url, 'edge/groups/+/config/set');
  t.after(() => sub.close());
  const key = ['--key', path.join(dir, 'signing.pem'), '--version', '4', cfg, '--publish', broker.url];
  const pub = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, ...key, '--group', 'line-a'], { encoding: 'utf8' });
  assert.equal(pub.status, 0, pub.stderr);
  assert.match(pub.stdout, /published version 4 to edge\/groups\/line-a\/config\/set .*watch edge\/\+\/config\/state/);
  const { waitFor } = await import('../helpers/source-context.js');
  await waitFor(() => sub.messages.length > 0, 5000, 'the group push');
  assert.equal(sub.messages[0].topic, 'edge/groups/line-a/config/set');
  const doc = JSON.parse(sub.messages[0].payload.toString());
  assert.equal(verifySignature(4, doc.config, doc.signature, path.join(dir, 'signing.pub')), undefined);
  assert.equal(run([...key, '--group', 'line-a', '--agent', 'b1']).status, 2);
});
