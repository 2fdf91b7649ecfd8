import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkPush, type PushContext } from '../../../agent/control/push.js';
import { sign, verifySignature, configHash } from '../../../agent/control/signature.js';
import { parseConfigText, resolvePaths, loadConfigFile } from '../../../agent/config/load.js';
import { effectiveConfig, applySetAside } from '../../../agent/control/startup.js';
import { savePersisted, loadPersisted, persistedPath, loadFloor } from '../../../agent/control/persist.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-push-'));
const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
const pubFile = path.join(dir, 'signing.pub');
fs.writeFileSync(pubFile, publicKey.export({ type: 'spki', format: 'pem' }));
const privPem = privateKey.export({ type: 'pkcs8', format: 'pem' });

function running(extra = '') {
  const res = parseConfigText(`
agent: { id: board-1, dataDir: ${dir}/data }
uplink: { mqtt: { url: "mqtt://127.0.0.1:1883" } }
sources: [{ id: a, driver: sim, points: [{ name: x, wave: counter }] }]
control: { socket: ${dir}/agent.sock, remoteConfig: { maxBytes: 4KiB${extra} } }
`);
  assert.ok(res.ok, JSON.stringify(!res.ok && res.errors));
  return resolvePaths(res.config, dir);
}

const pushed = { uplink: { mqtt: { url: 'mqtt://127.0.0.1:1883' } }, sources: [{ id: 'a', driver: 'sim', points: [{ name: 'x', wave: 'counter' }] }, { id: 'b', driver: 'sim', points: [{ name: 'y', wave: 'sine' }] }] };
const ctx = (over: Partial<PushContext> = {}): PushContext => ({ running: running(', allowUnsigned: true'), runningVersion: 0, minVersion: 0, baseDir: dir, ...over });
const buf = (o: unknown) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o));

test('a valid push is accepted with the running local-only values', () => {
  const r = checkPush(buf({ version: 1, config: pushed }), ctx());
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.version, 1);
  assert.equal(r.config.sources.length, 2);
  assert.equal(r.config.agent.id, 'board-1', 'agent.id stays the board\'s');
  assert.equal(r.config.agent.dataDir, `${dir}/data`);
  assert.equal(r.config.control.socket, `${dir}/agent.sock`);
  assert.equal(r.hash, configHash(pushed));
});

test('rejections name the reason and the key path', () => {
  const cases: [unknown, RegExp, Partial<PushContext>?][] = [
    ['{"version": 1, "config": ', /payload: not JSON/],
    [[1, 2], /payload: expected/],
    [{ version: 0, config: pushed }, /version: expected a positive integer/],
    [{ version: 2.5, config: pushed }, /version: expected a positive integer/],
    [{ version: 1, config: 'x' }, /config: expected a mapping/],
    [{ version: 1, config: pushed, extra: 1 }, /extra: unknown key/],
    [{ version: 3, config: pushed }, /version: 3 is not greater than the running version 3/, { runningVersion: 3 }],
    [{ version: 4, config: pushed }, /version: 4 was already tried and rolled back/, { runningVersion: 3, minVersion: 4 }],
    [{ version: 4, config: pushed }, /version: 4 or a greater one was reverted on this board/, { minVersion: 5, minWhy: 'reverted' }],
    [{ version: 1, config: pushed }, /remote config is off: control\.remoteConfig\.publicKey is not set/, { running: running() }],
    [{ version: 1, config: pushed }, /remote config is off: control\.remoteConfig\.enabled is false/, { running: running(', allowUnsigned: true, enabled: false') }],
    [{ version: 1, config: { ...pushed, sources: [{ id: 'a', driver: 'sim', points: [{ name: 'x', wave: 'square' }] }] } }, /sources\[0\]\.points\[0\]\.wave: expected one of sine/],
    [{ version: 1, config: { ...pushed, bogus: 1 } }, /bogus: unknown key/],
    [{ version: 1, config: { ...pushed, control: { socket: '/tmp/elsewhere.sock' } } }, /control\.socket: local-only key/],
    [{ version: 1, config: { ...pushed, agent: { dataDir: '/var/other' } } }, /agent\.dataDir: local-only key/],
    [{ version: 1, config: { ...pushed, agent: { id: 'someone-else' } } }, /agent\.id: local-only key/],
    [{ version: 1, config: { ...pushed, pad: 'x'.repeat(5000) } }, /payload: \d+ bytes exceeds control\.remoteConfig\.maxBytes \(4096\)/],
  ];
  for (const [payload, re, over] of cases) {
    const r = checkPush(buf(payload), ctx(over));
    assert.ok(!r.ok, `accepted: ${JSON.stringify(payload).slice(0, 100)}`);
    assert.match(r.errors.join('\n'), re);
  }
});

test('local-only keys repeated unchanged are fine', () => {
  const r = checkPush(buf({ version: 1, config: { ...pushed, agent: { id: 'board-1', dataDir: `${dir}/data`, logLevel: 'debug' }, control: { socket: `${dir}/agent.sock`, remoteConfig: { maxBytes: 4096 } } } }), ctx());
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.config.agent.logLevel, 'debug');
});

test('with a public key: signed pushes pass, unsigned and tampered ones do not', () => {
  const c = ctx({ running: running(`, publicKey: ${pubFile}`) });
  const signature = sign(5, pushed, privPem);
  assert.ok(checkPush(buf({ version: 5, config: pushed, signature }), c).ok);
  const unsigned = checkPush(buf({ version: 5, config: pushed }), c);
  assert.ok(!unsigned.ok && /signature: required/.test(unsigned.errors[0]));
  const otherVersion = checkPush(buf({ version: 6, config: pushed, signature }), c);
  assert.ok(!otherVersion.ok && /does not verify/.test(otherVersion.errors[0]), 'the version is signed too');
  const tampered = checkPush(buf({ version: 5, config: { ...pushed, sources: [] }, signature }), c);
  assert.ok(!tampered.ok && /does not verify/.test(tampered.errors[0]));
  const other = crypto.generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' });
  const wrongKey = checkPush(buf({ version: 5, config: pushed, signature: sign(5, pushed, other) }), c);
  assert.ok(!wrongKey.ok && /does not verify/.test(wrongKey.errors[0]));
  assert.match(verifySignature(5, pushed, 'not base64!', pubFile)!, /expected base64/);
  assert.match(verifySignature(5, pushed, signature, `${dir}/missing.pub`)!, /cannot read public key/);
});

test('key order and white space of the pushed JSON do not matter to the signature (JCS)', () => {
  const c = ctx({ running: running(`, publicKey: ${pubFile}`) });
  const signature = sign(7, pushed, privPem);
  const reordered = `{ "signature": "${signature}", "config": ${JSON.stringify({ sources: pushed.sources, uplink: pushed.uplink }, null, 2)}, "version": 7 }`;
  assert.ok(checkPush(buf(reordered), c).ok);
});

test('persisted remote config wins over the file only when it exists and validates', () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-persist-'));
  const file = path.join(d, 'config.yaml');
  fs.writeFileSync(file, `agent: { id: b, dataDir: ./data }\nuplink: { mqtt: { url: "mqtt://127.0.0.1:1" } }\ncontrol: { socket: ./s.sock, remoteConfig: { allowUnsigned: true } }\n`);
  const local = loadConfigFile(file);
  assert.equal(effectiveConfig(local).origin, 'file');
  savePersisted(local.config.agent.dataDir, { version: 4, hash: configHash(pushed), config: pushed, appliedAt: 1 });
  assert.equal(fs.statSync(persistedPath(local.config.agent.dataDir)).mode & 0o777, 0o600);
  assert.deepEqual(fs.readdirSync(local.config.agent.dataDir), ['remote-config.json'], 'no temp file left');
  assert.equal(loadPersisted(local.config.agent.dataDir)!.version, 4);
  const eff = effectiveConfig(local);
  assert.equal(eff.origin, 'remote');
  assert.equal(eff.version, 4);
  assert.equal(eff.config.sources.length, 2);
  assert.equal(eff.config.control.socket, path.join(d, 's.sock'), 'local-only keys come from the file');
  savePersisted(local.config.agent.dataDir, { version: 5, hash: 'x', config: { bogus: true }, appliedAt: 1 });
  const bad = effectiveConfig(local);
  assert.equal(bad.origin, 'file');
  assert.match(bad.warning!, /version 5 .* no longer validates: .*bogus: unknown key/);
});

test('remote config off, or signing turned on: a persisted remote config is not put in force and is set aside at start', () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-aside-'));
  const file = path.join(d, 'config.yaml');
  const write = (rc: string) => fs.writeFileSync(file, `agent: { id: b, dataDir: ./data }\nuplink: { mqtt: { url: "mqtt://127.0.0.1:1" } }\ncontrol: { socket: ./s.sock, remoteConfig: { ${rc} } }\n`);
  write('');
  const dataDir = path.join(d, 'data');
  savePersisted(dataDir, { version: 4, hash: configHash(pushed), config: pushed, appliedAt: 1 });
  const off = effectiveConfig(loadConfigFile(file));
  assert.equal(off.origin, 'file');
  assert.equal(off.version, 0);
  assert.deepEqual(off.setAside, { version: 4, reason: 'remote config is off (control.remoteConfig.publicKey is not set (and allowUnsigned is not true))' });
  assert.match(off.warning!, /persisted remote config version 4 not put in force: remote config is off .*kept aside \(a start moves it to .*remote-config\.aside\.json/);
  assert.ok(fs.existsSync(persistedPath(dataDir)), 'effectiveConfig itself changes nothing (check uses it)');
  write(`publicKey: ${pubFile}`);
  const signedNow = effectiveConfig(loadConfigFile(file));
  assert.match(signedNow.setAside!.reason, /taken unsigned and control\.remoteConfig\.publicKey is now set/);
  savePersisted(dataDir, { version: 4, hash: configHash(pushed), config: pushed, appliedAt: 1, signature: sign(4, pushed, privPem) });
  assert.equal(effectiveConfig(loadConfigFile(file)).origin, 'remote', 'a signed one stays in force');
  write('');
  const eff = effectiveConfig(loadConfigFile(file));
  applySetAside(eff, dataDir);
  assert.deepEqual(fs.readdirSync(dataDir).sort(), ['remote-config.aside.json', 'remote-config.floor.json']);
  assert.deepEqual(loadFloor(dataDir), { version: 4, why: 'set-aside' });
  assert.equal(effectiveConfig(loadConfigFile(file)).warning, undefined, 'nothing left to warn about at the next start');
});
