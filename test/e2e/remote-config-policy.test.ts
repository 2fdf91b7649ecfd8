import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startBroker } from '../helpers/broker.js';
import { collect, startDaemon, tempDir, writeConfig } from '../helpers/daemon.js';
import { cli, publishOnce } from '../helpers/control.js';
import { sleep } from '../helpers/system.js';
import { waitFor } from '../helpers/source-context.js';
import { savePersisted } from '../../agent/control/persist.js';
import { configHash } from '../../agent/control/signature.js';

const AGENT = 'pol-board';
const SET = `edge/${AGENT}/config/set`;
const WARN = 40;

function localConfig(dir: string, url: string, remoteConfig: string): string {
  return `
agent: { id: ${AGENT}, dataDir: ${dir}/data }
uplink:
  mqtt: { url: "${url}", topicPrefix: edge, reconnectMin: 100ms, reconnectMax: 500ms }
  batch: { maxDelay: 200ms }
buffer: { flushInterval: 200ms }
sources:
  - { id: gen, driver: sim, pollInterval: 50ms, points: [{ name: n, wave: counter }] }
control:
  socket: ${dir}/agent.sock
  remoteConfig: { ${remoteConfig} }
`;
}
const pushed = (extra: string) => ({
  uplink: { mqtt: { url: 'x', topicPrefix: 'edge', reconnectMin: '100ms', reconnectMax: '500ms' }, batch: { maxDelay: '200ms' } },
  buffer: { flushInterval: '200ms' },
  sources: [
    { id: 'gen', driver: 'sim', pollInterval: '50ms', points: [{ name: 'n', wave: 'counter' }] },
    { id: extra, driver: 'sim', pollInterval: '50ms', points: [{ name: 'e', wave: 'constant', value: 7 }] },
  ],
});

test('default-deny: without a key nothing is subscribed, a push changes nothing, a persisted remote config is kept aside', async (t) => {
  const broker = await startBroker();
  t.after(() => broker.stop());
  const dir = tempDir();
  const v5 = pushed('seeded');
  v5.uplink.mqtt.url = broker.url;
  // Left by an earlier install that took pushes: must not come back into force.
  savePersisted(`${dir}/data`, { version: 5, hash: configHash(v5), config: v5, appliedAt: 1 });
  const cfg = writeConfig(dir, localConfig(dir, broker.url, ''));
  const sub = await collect(broker.url, `edge/${AGENT}/#`);
  t.after(() => sub.close());
  const d = startDaemon(['run', '--config', cfg]);
  t.after(() => d.stop('SIGKILL'));
  const warned = await d.waitLog((l) => typeof l.msg === 'string' && l.msg.startsWith('persisted remote config version 5 not put in force'));
  assert.equal(warned.level, WARN);
  assert.match(String(warned.msg), /remote config is off \(control\.remoteConfig\.publicKey is not set.*kept aside \(a start moves it to .*remote-config\.aside\.json/);
  await d.waitLog((l) => typeof l.msg === 'string' && l.msg.startsWith('remote config off: control.remoteConfig.publicKey is not set'));
  assert.ok(!fs.existsSync(`${dir}/data/remote-config.json`), 'moved out of the way');
  assert.ok(fs.existsSync(`${dir}/data/remote-config.aside.json`), 'kept for the operator');
  await waitFor(() => sub.batches.length > 0, 10_000, 'first batch');

  const v6 = pushed('intruder');
  v6.uplink.mqtt.url = broker.url;
  await publishOnce(broker.url, SET, JSON.stringify({ version: 6, config: v6 }));
  await publishOnce(broker.url, SET, JSON.stringify({ version: 7, config: v6 }), true);
  await sleep(1500); // delivery to a subscriber takes milliseconds; there is none to take it
  assert.deepEqual(sub.messages.filter((m) => m.topic.endsWith('/config/state')), [], 'no config/state: the push was never taken');
  const st = await cli(['status', '--socket', `${dir}/agent.sock`, '--json']);
  assert.equal(st.code, 0, st.stderr);
  const s = JSON.parse(st.stdout);
  assert.equal(s.config.version, 0);
  assert.equal(s.remoteConfig.mode, 'off');
  assert.deepEqual(s.sources.map((x: { id: string }) => x.id), ['gen']);
  assert.ok(!sub.batches.some((b) => b.readings.some((r) => r.source !== 'gen')), 'only the local source ever sent');
  const human = await cli(['status', '--socket', `${dir}/agent.sock`]);
  assert.match(human.stdout, /remote config\s+off \(control\.remoteConfig\.publicKey is not set/);

  // Turned on in the local file and reloaded (SIGHUP): subscribed from then on, no restart needed.
  await publishOnce(broker.url, SET, '', true); // clear the retained push
  writeConfig(dir, localConfig(dir, broker.url, 'allowUnsigned: true, confirm: { window: 5s }'));
  d.proc.kill('SIGHUP');
  await waitFor(() => sub.messages.some((m) => m.topic.endsWith('/config/state')), 10_000, 'config/state of the reload');
  const v8 = pushed('late');
  v8.uplink.mqtt.url = broker.url;
  await publishOnce(broker.url, SET, JSON.stringify({ version: 8, config: v8 }));
  const stateOf = () => sub.messages.filter((m) => m.topic.endsWith('/config/state')).map((m) => JSON.parse(m.payload.toString()));
  await waitFor(() => stateOf().some((x) => x.version === 8), 15_000, 'config/state of v8');
  assert.equal(stateOf().find((x) => x.version === 8).status, 'applied');
  assert.equal(await d.stop(), 0);
});

test('allowUnsigned: warned at start and in status; config show and revert through the daemon and with it stopped', async (t) => {
  const broker = await startBroker();
  t.after(() => broker.stop());
  const dir = tempDir();
  const cfg = writeConfig(dir, localConfig(dir, broker.url, 'allowUnsigned: true, confirm: { window: 5s }'));
  const sub = await collect(broker.url, `edge/${AGENT}/#`);
  t.after(() => sub.close());
  const states = () => sub.messages.filter((m) => m.topic.endsWith('/config/state')).map((m) => JSON.parse(m.payload.toString()));
  const sock = ['--socket', `${dir}/agent.sock`];
  let d = startDaemon(['run', '--config', cfg]);
  t.after(() => d.stop('SIGKILL'));
  const warned = await d.waitLog((l) => typeof l.msg === 'string' && l.msg.startsWith('remote config accepts UNSIGNED pushes'));
  assert.equal(warned.level, WARN);
  await waitFor(() => sub.batches.length > 0, 10_000, 'first batch');
  const st = JSON.parse((await cli(['status', ...sock, '--json'])).stdout);
  assert.equal(st.remoteConfig.mode, 'unsigned');
  assert.match(st.remoteConfig.note, /allowUnsigned is true/);
  assert.match((await cli(['status', ...sock])).stdout, /remote config\s+UNSIGNED pushes accepted \(allowUnsigned: lab only\)/);

  const push = async (version: number, extra: string) => {
    const c = pushed(extra);
    c.uplink.mqtt.url = broker.url;
    const n = states().length;
    await publishOnce(broker.url, SET, JSON.stringify({ version, config: c }));
    // The state of THIS push: a retained state may be delivered again meanwhile (a reconnect).
    const mine = () => states().slice(n).find((x) => x.version === version);
    await waitFor(() => mine() !== undefined, 15_000, `config/state after v${version}`);
    return mine();
  };
  const a1 = await push(1, 'extra');
  assert.equal(a1.status, 'applied', JSON.stringify(a1));
  const show = await cli(['config', 'show', ...sock, '--json']);
  assert.equal(show.code, 0, show.stderr);
  const sh = JSON.parse(show.stdout);
  assert.deepEqual({ running: sh.running, version: sh.version, origin: sh.origin, hash: sh.hash, topic: sh.topic }, { running: true, version: 1, origin: 'remote', hash: a1.hash, topic: SET });
  assert.deepEqual(sh.config.sources.map((x: { id: string }) => x.id), ['gen', 'extra']);
  const human = await cli(['config', 'show', ...sock]);
  assert.match(human.stdout, new RegExp(`^in force\\s+remote push version 1 via ${SET}, applied 20`, 'm'));
  assert.match(human.stdout, new RegExp(`^hash\\s+sha256 ${a1.hash}$`, 'm'));
  assert.match(human.stdout, /^---\n[^]*id: extra/m);

  // Revert through the running daemon: version 0 from the file, the push kept aside, its replay refused.
  const rv = await cli(['config', 'revert', ...sock]);
  assert.equal(rv.code, 0, rv.stderr);
  assert.match(rv.stdout, /reverted: the running daemon now runs the local file \(version 0\)/);
  const s0 = states().at(-1);
  assert.deepEqual({ status: s0.status, version: s0.version, source: s0.source, running: s0.running }, { status: 'applied', version: 0, source: 'file', running: 0 });
  const after = JSON.parse((await cli(['config', 'show', ...sock, '--json'])).stdout);
  assert.equal(after.version, 0);
  assert.equal(after.source, cfg);
  assert.deepEqual(after.config.sources.map((x: { id: string }) => x.id), ['gen']);
  assert.ok(fs.existsSync(`${dir}/data/remote-config.aside.json`));
  assert.ok(!fs.existsSync(`${dir}/data/remote-config.json`));
  const replay = await push(1, 'extra');
  assert.equal(replay.status, 'rejected');
  assert.match(replay.errors.join('\n'), /version: 1 or a greater one was reverted on this board/);
  assert.equal((await push(2, 'second')).status, 'applied');
  assert.equal(await d.stop(), 0);

  // Daemon stopped: show reads the files, revert moves the push aside directly.
  const off = JSON.parse((await cli(['config', 'show', '--config', cfg, '--json'])).stdout);
  assert.deepEqual({ running: off.running, version: off.version, origin: off.origin }, { running: false, version: 2, origin: 'remote' });
  const offHuman = await cli(['config', 'show', '--config', cfg, '--header-only']);
  assert.match(offHuman.stdout, /daemon\s+not running \(this is what a start would put in force\)/);
  assert.doesNotMatch(offHuman.stdout, /---/);
  const rv2 = await cli(['config', 'revert', '--config', cfg]);
  assert.equal(rv2.code, 0, rv2.stderr);
  assert.match(rv2.stdout, /reverted \(daemon not running\): remote config version 2 kept aside as .*remote-config\.aside\.json; the next start runs/);
  assert.equal(JSON.parse((await cli(['config', 'show', '--config', cfg, '--json'])).stdout).version, 0);
  const again = await cli(['config', 'revert', '--config', cfg]);
  assert.match(again.stdout, /nothing to revert/);
  d = startDaemon(['run', '--config', cfg]);
  await d.waitLog((l) => l.msg === 'config in force' && l.version === 0 && l.origin === 'file');
  const seen = sub.batches.length;
  await waitFor(() => sub.batches.length > seen, 10_000, 'a batch after the restart (subscribed by then)');
  const replay2 = await push(2, 'second');
  assert.equal(replay2.status, 'rejected', 'the floor survives the restart');
  assert.equal(await d.stop(), 0);
});
