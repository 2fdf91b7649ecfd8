import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { requireTool } from '../helpers/system.js';
import { REPO, tempDir } from '../helpers/daemon.js';

const UNIT = path.join(REPO, 'systemd', 'edge-agent.service');
const CHECK = path.join(REPO, 'scripts', 'check-unit.sh');
const unitText = fs.readFileSync(UNIT, 'utf8');
/** Directive lines only (comments name the traps on purpose). */
const directives = unitText.split('\n').filter((l) => /^[A-Za-z]+=/.test(l));
const values = (key: string) => directives.filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));

test('scripts/check-unit.sh: verify clean and security exposure <= 2.5, score printed', { skip: !requireTool('systemd-analyze', 'systemd') && 'no systemd-analyze' }, (t) => {
  const r = spawnSync('sh', [CHECK], { encoding: 'utf8' });
  t.diagnostic(r.stdout.trim());
  assert.equal(r.status, 0, `check-unit.sh failed:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /systemd-analyze verify: clean/);
  const score = Number(/exposure ([0-9.]+)/.exec(r.stdout)?.[1]);
  assert.ok(score > 0 && score <= 2.5, `exposure ${score}`);
});

test('check-unit.sh fails on a unit systemd rejects and on one over the exposure limit', { skip: !requireTool('systemd-analyze', 'systemd') && 'no systemd-analyze' }, () => {
  const dir = tempDir('edge-unit-');
  const typo = path.join(dir, 'edge-agent.service');
  fs.writeFileSync(typo, unitText.replace(/^Restart=on-failure$/m, 'Restart=on-failur'));
  const bad = spawnSync('sh', [CHECK, typo], { encoding: 'utf8' });
  assert.notEqual(bad.status, 0, 'a bad Restart= value must fail verify');
  assert.match(bad.stderr, /verify: FAIL/);
  const tight = spawnSync('sh', [CHECK], { encoding: 'utf8', env: { ...process.env, MAX_EXPOSURE: '0.5' } });
  assert.notEqual(tight.status, 0);
  assert.match(tight.stderr, /exceeds 0.5/);
});

test('the unit avoids the known traps for a Node daemon and keeps what the daemon needs', () => {
  // V8's JIT needs writable+executable pages; PrivateUsers maps dialout/gpio to nobody.
  assert.deepEqual(values('MemoryDenyWriteExecute').filter((v) => v !== 'no'), []);
  assert.deepEqual(values('PrivateUsers').filter((v) => v !== 'no'), []);
  assert.deepEqual(values('PrivateDevices').filter((v) => v !== 'no'), []);
  const families = values('RestrictAddressFamilies').join(' ').split(/\s+/);
  assert.ok(families.includes('AF_UNIX') && families.includes('AF_INET') && families.includes('AF_INET6'), families.join(' '));
  assert.deepEqual(values('Type'), ['notify']);
  assert.deepEqual(values('NotifyAccess'), ['all'], 'keep-alives come from systemd-notify children');
  assert.ok(values('WatchdogSec').length === 1);
  assert.deepEqual(values('Restart'), ['on-failure']);
  assert.deepEqual(values('ExecReload'), ["/bin/sh -c 'kill -HUP ${MAINPID}'"], 'systemctl reload = SIGHUP = re-read the config file');
  assert.ok(values('StartLimitBurst').length === 1 && values('StartLimitIntervalSec').length === 1);
  assert.deepEqual(values('SupplementaryGroups'), ['dialout gpio']);
  for (const dev of ['char-ttyUSB', 'char-ttyACM', 'char-ttyAMA', 'char-gpiochip']) {
    assert.ok(values('DeviceAllow').some((v) => v.startsWith(`${dev} `)), `DeviceAllow ${dev}`);
  }
  const exec = values('ExecStart')[0];
  assert.match(exec, /--max-old-space-size=\d+/);
  assert.match(exec, /\/opt\/edge-agent\/edge-agent\.mjs run --config \/etc\/edge-agent\/config\.yaml$/);
  for (const k of ['StateDirectory', 'RuntimeDirectory', 'ConfigurationDirectory']) assert.deepEqual(values(k), ['edge-agent']);
  for (const k of ['NoNewPrivileges', 'PrivateTmp', 'ProtectHome']) assert.deepEqual(values(k), ['yes'], k);
  assert.deepEqual(values('ProtectSystem'), ['strict']);
  assert.ok(values('MemoryMax').length === 1);
});
