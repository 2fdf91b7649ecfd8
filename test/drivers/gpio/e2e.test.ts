import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startBroker } from '../../helpers/broker.js';
import { collect, startDaemon, tempDir, writeConfig } from '../../helpers/daemon.js';
import { waitFor } from '../../helpers/source-context.js';
import { FakeSysfs, PI4_NEW_KERNEL } from './fake-sysfs.js';

/*
 * The BUILT daemon with a gpio source on a fake sysfs tree (EDGE_AGENT_GPIO_SYSFS, so the sysfs
 * backend, polling), serviced by this process like a kernel: readings reach the broker, and the
 * counter total survives a daemon restart.
 */
test('daemon: gpio input and counter readings reach the broker; the total survives a restart', { timeout: 60_000 }, async (t) => {
  const broker = await startBroker();
  t.after(() => broker.stop());
  const dir = tempDir('gpio-e2e-');
  const sys = new FakeSysfs(path.join(dir, 'gpio'), PI4_NEW_KERNEL).start();
  t.after(() => sys.stop());
  const data = path.join(dir, 'data');
  const cfg = writeConfig(dir, `
agent: { id: gpio-board, dataDir: ${data} }
uplink:
  mqtt: { url: "${broker.url}", reconnectMin: 100ms, reconnectMax: 500ms }
  batch: { maxDelay: 100ms }
buffer: { flushInterval: 200ms }
sources:
  - id: door
    driver: gpio
    pollInterval: 2ms
    persistInterval: 200ms
    pins:
      - { name: open, line: 17, edge: both, activeLow: true }
      - { name: flow, line: 27, mode: counter, edge: both, scale: 0.5, unit: L, interval: 300ms }
control: { socket: ${dir}/agent.sock }
`);
  const sub = await collect(broker.url, 'edge/gpio-board/data');
  t.after(() => sub.close());
  const readings = () => sub.batches.flatMap((b) => b.readings);
  const of = (p: string) => readings().filter((r) => r.source === 'door' && r.point === p);
  const env = { EDGE_AGENT_GPIO_SYSFS: sys.root };
  const totalsFile = path.join(data, 'gpio', 'door.json');
  const pulses = () => {
    try {
      return JSON.parse(fs.readFileSync(totalsFile, 'utf8')).pins.flow.pulses as number;
    } catch {
      return -1;
    }
  };

  const d1 = startDaemon(['run', '--config', cfg], env);
  t.after(() => d1.stop('SIGKILL'));
  await waitFor(() => of('open').length >= 1, 15_000, 'initial door level');
  assert.equal(of('open')[0].value, true, 'physical low + activeLow');
  assert.deepEqual(sys.exports.sort(), [529, 539]);
  sys.set(529, 1);
  await waitFor(() => of('open').some((r) => r.value === false), 10_000, 'door change');
  // edge both: every transition is a counted pulse, so each one shows in the totals file
  for (let i = 1; i <= 6; i++) {
    sys.set(539, (i % 2) as 0 | 1);
    await waitFor(() => pulses() === i, 10_000, `pulse ${i} persisted`);
  }
  await waitFor(() => of('flow').some((r) => r.value === 3), 10_000, 'total 6 * 0.5 L at the broker');
  assert.ok(of('flow.rate').length > 0, 'rate readings');
  assert.equal(await d1.stop(), 0);
  sys.service();
  // Lines are released on SIGTERM. Back-to-back unexports from another process land in one
  // regular file here (a kernel takes each write), so only "at least one" is checkable; the
  // in-process tests check each line's unexport.
  assert.ok(sys.unexports.length >= 1 && sys.unexports.every((n) => n === 529 || n === 539), `unexports ${sys.unexports}`);

  const before = of('flow').length;
  const d2 = startDaemon(['run', '--config', cfg], env);
  t.after(() => d2.stop('SIGKILL'));
  await waitFor(() => of('flow').length > before, 15_000, 'total after restart');
  assert.equal(of('flow')[before].value, 3, 'restart resumes the persisted total');
  sys.set(539, 1);
  await waitFor(() => of('flow').some((r) => r.value === 3.5), 10_000, 'counting continues');
  assert.equal(await d2.stop(), 0);
});
