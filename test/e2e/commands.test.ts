import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import mqtt from 'mqtt';
import { startBroker } from '../helpers/broker.js';
import { collect, startDaemon, tempDir, writeConfig } from '../helpers/daemon.js';
import { cli, httpGet, publishOnce, signingKeys } from '../helpers/control.js';
import { freePort, sleep } from '../helpers/system.js';
import { waitFor } from '../helpers/source-context.js';
import { havePymodbus, haveMbpoll, startSlave } from '../drivers/modbus/slave.js';
import { signCommand } from '../../agent/control/commands/envelope.js';

/*
 * The built daemon, a real broker and the pymodbus slave: commands from MQTT end to end, every
 * rejection rule (each leaves the device as it was, as mbpoll reads it), a command that waited in
 * the broker past maxAge while the agent was down, and the same id twice, also across a restart.
 */

const HAVE = havePymodbus();
const AGENT = 'cmd-board';
const CMD = `edge/${AGENT}/cmd`;
const MAX_AGE_S = 20;

function config(dir: string, url: string, modbusPort: number, metricsPort: number, pub: string): string {
  return `
agent: { id: ${AGENT}, dataDir: ${dir}/data }
uplink:
  mqtt: { url: "${url}", topicPrefix: edge, reconnectMin: 100ms, reconnectMax: 500ms }
  batch: { maxDelay: 200ms }
buffer: { flushInterval: 200ms }
sources:
  - id: plc
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${modbusPort}
    pollInterval: 200ms
    timeout: 500ms
    points:
      - { name: setpoint, table: holding, address: 60, type: float32, wordOrder: little, write: { min: 5, max: 80 } }
      - { name: pump, table: coil, address: 5, write: true }
      - { name: level, table: holding, address: 1 }
control:
  socket: ${dir}/agent.sock
  metrics: { listen: "127.0.0.1:${metricsPort}" }
  commands: { publicKey: ${pub}, maxAge: ${MAX_AGE_S}s }
`;
}

test('commands end to end: done with read-back, each rule rejected (device unchanged), stale after an outage, once per id across a restart', { skip: HAVE ? false : 'pymodbus not available (see above)' }, async (t) => {
  const mbpollOk = haveMbpoll();
  const broker = await startBroker();
  t.after(() => broker.stop());
  const modbusPort = await freePort();
  const slave = await startSlave({ tcp: modbusPort, units: [1] });
  t.after(() => slave.stop());
  const dir = tempDir();
  const keys = signingKeys(dir);
  const metricsPort = await freePort();
  const cfg = writeConfig(dir, config(dir, broker.url, modbusPort, metricsPort, keys.pub));
  const sub = await collect(broker.url, `edge/${AGENT}/cmd/result`);
  t.after(() => sub.close());
  const results = () => sub.messages.map((m) => ({ ...JSON.parse(m.payload.toString()), retain: m.retain }));
  const resultOf = async (id: string, n = 1) => {
    await waitFor(() => results().filter((r) => r.id === id).length >= n, 10_000, `result of ${id}`);
    return results().filter((r) => r.id === id)[n - 1];
  };
  const cmd = (id: string, source: string, point: string, value: unknown, ts = Date.now(), pem = keys.pem) => {
    const c = { id, source, point, value, ts } as { id: string; source: string; point: string; value: number; ts: number };
    return JSON.stringify({ ...c, signature: signCommand(c, pem) });
  };
  /** The device as mbpoll reads it (CDAB float at 60, coil 5); else through the daemon's bus. */
  const device = async () => {
    if (mbpollOk) {
      const run = (args: string[]) => /^\[\d+\]:\s+(\S+)/m.exec(execFileSync('mbpoll', ['-m', 'tcp', '-p', String(modbusPort), '-a', '1', '-0', '-1', '-o', '2', ...args, '127.0.0.1'], { encoding: 'utf8' }))![1];
      return { setpoint: Number(run(['-r', '60', '-t', '4:float'])), pump: run(['-r', '5', '-t', '0']) === '1' };
    }
    const r = await cli(['modbus', 'read', '--host', `127.0.0.1:${modbusPort}`, '--address', '60', '--type', 'float32', '--order', 'CDAB', '--json', '--socket', `${dir}/agent.sock`]);
    const c = await cli(['modbus', 'read', '--host', `127.0.0.1:${modbusPort}`, '--table', 'coil', '--address', '5', '--json', '--socket', `${dir}/agent.sock`]);
    return { setpoint: JSON.parse(r.stdout).values[0], pump: JSON.parse(c.stdout).values[0] };
  };

  let d = startDaemon(['run', '--config', cfg]);
  t.after(() => d.stop('SIGKILL'));
  await d.waitLog((l) => l.msg === 'commands on (signed, fresh, once)');
  await d.waitLog((l) => l.msg === 'connected' || l.state === 'connected' || /connected/.test(String(l.msg)), 10_000);
  await sleep(300); // the subscription is sent right after CONNACK

  // 1. A signed, fresh command: done, with the value read back; the device has it.
  await publishOnce(broker.url, CMD, cmd('c-1', 'plc', 'setpoint', 21.5));
  const done = await resultOf('c-1');
  assert.equal(done.status, 'done', JSON.stringify(done));
  assert.equal(done.value, 21.5);
  assert.equal(done.retain, false, 'results are not retained');
  assert.ok(Number.isInteger(done.at));
  await publishOnce(broker.url, CMD, cmd('c-2', 'plc', 'pump', true));
  assert.equal((await resultOf('c-2')).value, true);
  assert.deepEqual(await device(), { setpoint: 21.5, pump: true });
  const logLine = await d.waitLog((l) => l.id === 'c-1' && l.msg === 'command done');
  assert.equal(logLine.source, 'plc');
  assert.equal(logLine.point, 'setpoint');
  assert.equal(logLine.value, 21.5);
  assert.equal(logLine.outcome, 'done');

  // 2. Every rule, one command each; none may touch the device.
  const other = crypto.generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const noSig = JSON.stringify({ id: 'r-nosig', source: 'plc', point: 'setpoint', value: 30, ts: Date.now() });
  const tampered = JSON.parse(cmd('r-tampered', 'plc', 'setpoint', 30));
  tampered.value = 70;
  const cases: [string, string, boolean, string, RegExp][] = [
    ['r-nosig', noSig, false, 'signature', /signature: required/],
    ['r-otherkey', cmd('r-otherkey', 'plc', 'setpoint', 30, Date.now(), other), false, 'signature', /does not verify with control\.commands\.publicKey/],
    ['r-tampered', JSON.stringify(tampered), false, 'signature', /does not verify/],
    ['r-source', cmd('r-source', 'nope', 'setpoint', 30), false, 'unknown-source', /no running source "nope"/],
    ['r-point', cmd('r-point', 'plc', 'nope', 30), false, 'unknown-point', /source "plc" has no point "nope"/],
    ['r-readonly', cmd('r-readonly', 'plc', 'level', 3), false, 'not-writable', /plc\/level is read-only/],
    ['r-type', cmd('r-type', 'plc', 'setpoint', true), false, 'type', /takes a number, got true/],
    ['r-type-coil', cmd('r-type-coil', 'plc', 'pump', 0), false, 'type', /takes true or false, got 0/],
    ['r-range', cmd('r-range', 'plc', 'setpoint', 95), false, 'range', /95 is outside 5\.\.80/],
    ['r-stale', cmd('r-stale', 'plc', 'setpoint', 30, Date.now() - (MAX_AGE_S + 40) * 1000), false, 'stale', /more than maxAge 20\.0 s/],
    ['r-future', cmd('r-future', 'plc', 'setpoint', 30, Date.now() + 60_000), false, 'future', /ahead of this board's clock/],
    ['c-1', cmd('c-1', 'plc', 'setpoint', 30), false, 'replay', /command id "c-1" was already received/],
  ];
  for (const [id, payload, retain, rule, msg] of cases) {
    await publishOnce(broker.url, CMD, payload, retain);
    const r = await resultOf(id, id === 'c-1' ? 2 : 1);
    assert.equal(r.status, 'rejected', `${id}: ${JSON.stringify(r)}`);
    assert.equal(r.rule, rule, `${id}: ${JSON.stringify(r)}`);
    assert.match(r.error, msg, id);
    assert.equal(r.value, undefined);
    assert.deepEqual(await device(), { setpoint: 21.5, pump: true }, `${id}: the device is unchanged`);
  }

  // 3. status and metrics count every outcome.
  const st = JSON.parse((await cli(['status', '--socket', `${dir}/agent.sock`, '--json'])).stdout);
  assert.equal(st.commands.enabled, true);
  assert.equal(st.commands.done, 2);
  assert.equal(st.commands.rejected, cases.length);
  assert.equal(st.commands.rejectedBy.signature, 3);
  assert.equal(st.commands.recent[0].id, 'c-1');
  assert.equal(st.commands.recent[0].rule, 'replay');
  const text = (await cli(['status', '--socket', `${dir}/agent.sock`])).stdout;
  assert.match(text, new RegExp(`^commands +on, 2 done, ${cases.length} rejected, 0 failed; last \\d+s ago: plc/setpoint = 30 rejected \\(replay\\)$`, 'm'));
  const metrics = (await httpGet(`http://127.0.0.1:${metricsPort}/metrics`)).text;
  assert.match(metrics, /edge_agent_commands_total\{status="done"\} 2/);
  assert.match(metrics, new RegExp(`edge_agent_commands_total\\{status="rejected"\\} ${cases.length}`));
  assert.match(metrics, /edge_agent_commands_rejected_total\{rule="range"\} 1/);

  // 4. The same id once more, after a restart: the seen ids are in the data dir.
  await publishOnce(broker.url, CMD, cmd('c-3', 'plc', 'setpoint', 40));
  assert.equal((await resultOf('c-3')).status, 'done');
  assert.ok(fs.existsSync(path.join(dir, 'data', 'command-ids.json')));
  assert.equal(await d.stop(), 0);

  // 5. While the agent is down, a command waits in the broker (a persistent session standing for
  //    a bridge or a queueing broker) until it is older than maxAge; delivered then, it must not run.
  const relay = mqtt.connect(broker.url, { clientId: 'cmd-relay', clean: false, reconnectPeriod: 0 });
  await new Promise<void>((r) => relay.once('connect', () => relay.subscribe('relay/cmd', { qos: 1 }, () => r())));
  await new Promise<void>((r) => relay.end(false, {}, () => r()));
  await publishOnce(broker.url, 'relay/cmd', cmd('c-late', 'plc', 'setpoint', 50, Date.now() - (MAX_AGE_S - 3) * 1000));
  // A retained command: MQTT 3.1.1 flags it only when the broker delivers it from its store (at
  // subscribe), which is exactly when it would fire again: at the agent's next start.
  await publishOnce(broker.url, CMD, cmd('r-retained', 'plc', 'setpoint', 30), true);
  await sleep(4000);
  const replayC3 = cmd('c-3', 'plc', 'setpoint', 60, Date.now());

  d = startDaemon(['run', '--config', cfg]);
  await d.waitLog((l) => l.msg === 'commands on (signed, fresh, once)');
  await waitFor(() => d.logs.some((l) => /connected/.test(String(l.msg))), 10_000, 'daemon connected');
  await sleep(300);
  const relay2 = mqtt.connect(broker.url, { clientId: 'cmd-relay', clean: false, reconnectPeriod: 0 });
  relay2.on('message', (_t, p) => relay2.publish(CMD, p, { qos: 1 }));
  t.after(() => relay2.end(true));
  const retained = await resultOf('r-retained');
  assert.equal(retained.rule, 'retained', JSON.stringify(retained));
  assert.match(retained.error, /must not be retained/);
  await publishOnce(broker.url, CMD, '', true); // clear it from the broker
  const late = await resultOf('c-late');
  assert.equal(late.rule, 'stale', JSON.stringify(late));
  await publishOnce(broker.url, CMD, replayC3);
  const again = await resultOf('c-3', 2);
  assert.equal(again.rule, 'replay', JSON.stringify(again));
  assert.deepEqual(await device(), { setpoint: 40, pump: true }, 'neither the late command nor the replay ran');
  assert.equal(await d.stop(), 0);
});
