import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { startBroker } from '../../helpers/broker.js';
import { startDaemon, tempDir, writeConfig } from '../../helpers/daemon.js';
import { cli } from '../../helpers/control.js';
import { freePort } from '../../helpers/system.js';
import { waitFor } from '../../helpers/source-context.js';
import { havePymodbus, haveMbpoll, startSlave } from '../../drivers/modbus/slave.js';
import { FakeSysfs, PI4_NEW_KERNEL } from '../../drivers/gpio/fake-sysfs.js';

/*
 * `edge-agent modbus write` and `gpio write` (the built CLI): directly, and through the running
 * daemon when it holds the bus or drives the line.
 */

const HAVE = havePymodbus();

test('modbus write: direct and through the daemon that holds the bus; mbpoll reads what it wrote', { skip: HAVE ? false : 'pymodbus not available (see above)' }, async (t) => {
  const port = await freePort();
  const slave = await startSlave({ tcp: port, units: [1] });
  t.after(() => slave.stop());
  const dir = tempDir();
  const direct = await cli(['modbus', 'write', '--host', `127.0.0.1:${port}`, '--address', '70', '--type', 'float32', '--order', 'CDAB', '--direct', '--socket', `${dir}/none.sock`, '21.5']);
  assert.equal(direct.code, 0, direct.stderr);
  assert.equal(direct.stdout, 'holding[70] <- 21.5 (FC 16); read back 21.5\nraw: 0x0000 0x41ac (float32, CDAB)\n');
  if (haveMbpoll()) {
    const out = execFileSync('mbpoll', ['-m', 'tcp', '-p', String(port), '-a', '1', '-0', '-1', '-r', '70', '-t', '4:float', '127.0.0.1'], { encoding: 'utf8' });
    assert.match(out, /\[70\]:\s+21\.5/);
  }
  const neg = await cli(['modbus', 'write', '--host', `127.0.0.1:${port}`, '--address', '72', '--type', 'int16', '--json', '--direct', '--', '-40', '7']);
  assert.equal(neg.code, 0, neg.stderr);
  assert.deepEqual(JSON.parse(neg.stdout).readBack.values, [-40, 7]);
  assert.equal(JSON.parse(neg.stdout).fc, 16);
  const bad = await cli(['modbus', 'write', '--host', `127.0.0.1:${port}`, '--table', 'input', '--address', '1', '--direct', '3']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--table: expected one of holding, coil/);
  const exc = await cli(['modbus', 'write', '--host', `127.0.0.1:${port}`, '--address', '300', '--direct', '3']);
  assert.equal(exc.code, 1);
  assert.match(exc.stderr, /unit 1 holding 300 on 127\.0\.0\.1:\d+ \(FC 6\): illegal data address \(exception 2\)/);

  // The daemon polls the same slave: the write waits its turn on its bus queue.
  const broker = await startBroker();
  t.after(() => broker.stop());
  const cfg = writeConfig(dir, `
agent: { id: w, dataDir: ${dir}/data }
uplink: { mqtt: { url: "${broker.url}" } }
sources:
  - { id: plc, driver: modbus-tcp, host: 127.0.0.1, port: ${port}, pollInterval: 100ms, points: [{ name: x, table: holding, address: 1 }] }
control: { socket: ${dir}/agent.sock }
`);
  const d = startDaemon(['run', '--config', cfg]);
  t.after(() => d.stop('SIGKILL'));
  await d.waitLog((l) => l.msg === 'source ok', 10_000);
  const via = await cli(['modbus', 'write', '--host', `127.0.0.1:${port}`, '--table', 'coil', '--address', '4', '--socket', `${dir}/agent.sock`, '1']);
  assert.equal(via.code, 0, via.stderr);
  assert.match(via.stderr, /via the running daemon \(pid \d+\)/);
  assert.equal(via.stdout, 'coil[4] <- true (FC 5); read back true\n');
  await d.waitLog((l) => /modbus write from the control socket/.test(String(l.msg)));
});

test('gpio write: directly on a free line (left exported at that level), through the daemon on its output pin, refused on its input', async (t) => {
  const sys = new FakeSysfs(path.join(tempDir('gpio-w-'), 'gpio'), PI4_NEW_KERNEL).start();
  t.after(() => sys.stop());
  const dir = tempDir();
  const direct = await cli(['gpio', 'write', '22', '1', '--sysfs-root', sys.root, '--socket', `${dir}/none.sock`]);
  assert.equal(direct.code, 0, direct.stderr);
  assert.equal(direct.stdout, 'line 22 (gpio534 on pinctrl-bcm2711): 1\n');
  sys.service();
  assert.equal(sys.attr(534, 'direction'), 'out');
  assert.equal(sys.level(534), 1);

  const broker = await startBroker();
  t.after(() => broker.stop());
  const cfg = writeConfig(dir, `
agent: { id: g, dataDir: ${dir}/data }
uplink: { mqtt: { url: "${broker.url}" } }
sources:
  - id: io
    driver: gpio
    backend: sysfs
    sysfsRoot: ${sys.root}
    pins:
      - { name: relay, line: 17, direction: out, initial: 0 }
      - { name: door, line: 27 }
control: { socket: ${dir}/agent.sock }
`);
  const d = startDaemon(['run', '--config', cfg]);
  t.after(() => d.stop('SIGKILL'));
  await waitFor(() => d.logs.some((l) => l.msg === 'source ok'), 10_000, 'gpio source ok');
  const via = await cli(['gpio', 'write', '17', '1', '--socket', `${dir}/agent.sock`, '--json']);
  assert.equal(via.code, 0, via.stderr);
  assert.deepEqual(JSON.parse(via.stdout), { line: 17, value: 1, via: 'daemon', source: 'io', pin: 'relay' });
  sys.service();
  assert.equal(sys.level(529), 1);
  await d.waitLog((l) => l.msg === 'command done' && l.origin === 'cli' && l.point === 'relay');
  const input = await cli(['gpio', 'write', '27', '1', '--socket', `${dir}/agent.sock`]);
  assert.equal(input.code, 1);
  assert.match(input.stderr, /line 27 is input pin "door" of source "io": not written/);
  assert.equal(sys.attr(539, 'direction'), 'in');
});
