// Issue 12 items 3 and 4, against the built daemon: what `check` can know it says, and `run`
// refuses the same with the same line, exit 1, before READY, with nothing left running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BUNDLE, startDaemon, tempDir, writeConfig } from '../../helpers/daemon.js';
import { fakeNotifySocket } from '../../helpers/notify-socket.js';

function config(dir: string, mqtt: string, extra = ''): string {
  return writeConfig(dir, `agent: { id: r1, dataDir: ${dir}/data }
uplink:
  mqtt: { url: "mqtt://127.0.0.1:1", ${mqtt} }
control: { socket: ${dir}/agent.sock${extra} }
sources:
  - { id: s, driver: sim, pollInterval: 100ms, points: [ { name: w, wave: sine } ] }
`);
}

const cases: { what: string; mqtt: string; extra?: string; line: RegExp }[] = [
  { what: 'a missing passwordFile', mqtt: 'passwordFile: /nonexistent/mqtt.pass', line: /^uplink\.mqtt\.passwordFile: file \/nonexistent\/mqtt\.pass does not exist \(.*config\.yaml:3:\d+\)$/ },
  { what: 'a missing ca', mqtt: 'ca: missing-ca.pem', line: /^uplink\.mqtt\.ca: file .*missing-ca\.pem does not exist \(.*config\.yaml:3:\d+\)$/ },
  { what: 'a cert that is a directory', mqtt: 'cert: "."', line: /^uplink\.mqtt\.cert: .* is a directory, expected a file/ },
  { what: 'a broker port out of range', mqtt: 'url: "mqtt://127.0.0.1:70000"', line: /^uplink\.mqtt\.url: port 70000 is out of range \(1-65535\)/ },
  { what: 'a metrics port out of range', mqtt: '', extra: ', metrics: { listen: "127.0.0.1:99999" }', line: /^control\.metrics\.listen: port 99999 is out of range \(1-65535\)/ },
  { what: 'a missing remote-config public key', mqtt: '', extra: ', remoteConfig: { publicKey: /nonexistent/key.pub }', line: /^control\.remoteConfig\.publicKey: file \/nonexistent\/key\.pub does not exist/ },
];

for (const c of cases) {
  test(`${c.what}: check names it; run exits 1 with the same line before READY, nothing started`, async () => {
    const dir = tempDir();
    // A duplicate `url` key would be a YAML error: the port case replaces the url instead.
    const file = c.mqtt.startsWith('url:') ? writeConfig(dir, fs.readFileSync(config(dir, ''), 'utf8').replace('url: "mqtt://127.0.0.1:1", ', `${c.mqtt}, `)) : config(dir, c.mqtt, c.extra);
    const chk = spawnSync(process.execPath, [BUNDLE, 'check', '--config', file], { encoding: 'utf8' });
    assert.equal(chk.status, 1, chk.stdout + chk.stderr);
    const chkLines = chk.stderr.trim().split('\n');
    assert.match(chkLines[0], c.line);
    assert.match(chkLines[chkLines.length - 1], /^1 error$/);
    const notify = await fakeNotifySocket();
    try {
      const d = startDaemon(['run', '--config', file], { NOTIFY_SOCKET: notify.path });
      const code = await Promise.race([d.exited, new Promise((r) => setTimeout(() => r('hung'), 15_000))]);
      if (code === 'hung') await d.stop('SIGKILL');
      assert.equal(code, 1, `run did not exit 1; stderr: ${d.stderr}`);
      const lines = d.stderr.trim().split('\n');
      assert.equal(lines.length, 1, d.stderr);
      assert.equal(lines[0], chkLines[0], 'run and check say the same line');
      assert.doesNotMatch(d.stderr, /\bat \w|Error:/, 'no stack trace');
      assert.ok(!d.logs.some((l) => l.msg === 'edge-agent started'), 'no source was started');
      assert.equal(notify.count('READY=1'), 0, 'no READY');
      assert.ok(!fs.existsSync(path.join(dir, 'agent.sock')), 'no control socket');
      assert.ok(!fs.existsSync(path.join(dir, 'data', 'outbox.db')), 'no outbox opened');
    } finally {
      notify.close();
    }
  });
}
