import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BUNDLE, startDaemon, tempDir, writeConfig, type Daemon } from '../../helpers/daemon.js';
import { cli } from '../../helpers/control.js';
import { freePort } from '../../helpers/system.js';
import { waitFor } from '../../helpers/source-context.js';
import { controlRequest } from '../../../agent/control/client.js';
import { havePymodbus, haveSocat, startPtyPair, startSlave } from '../../drivers/modbus/slave.js';
import { PtyPair, SKIP_REASON as NO_SOCAT } from '../../drivers/serial/pty.js';

// SPEC "CLI": while the daemon runs, diagnostics on a port it holds go through the daemon.

const rtuSkip = !haveSocat() ? 'socat not installed' : !havePymodbus() ? 'pymodbus not available (see above)' : false;

interface SourceStatus { id: string; state: string; readings: number; errors: Record<string, number>; driverInfo?: Record<string, unknown> }
async function source(sock: string, id: string): Promise<SourceStatus> {
  const st = (await controlRequest(sock, 'status', {}, { timeoutMs: 10_000 })) as { sources: SourceStatus[] };
  return st.sources.find((s) => s.id === id)!;
}

/** Polls the daemon's status until the source matches. */
async function waitSource(sock: string, id: string, pred: (s: SourceStatus) => boolean, what: string, timeoutMs = 15_000): Promise<SourceStatus> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = await source(sock, id);
    if (s && pred(s)) return s;
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms; last status ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The built CLI as a long-running child (monitors). */
function startCli(args: string[]) {
  const child = spawn(process.execPath, [BUNDLE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const io = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => (io.stdout += d));
  child.stderr.on('data', (d) => (io.stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  return { child, io, exited };
}

async function daemonWith(dir: string, sources: string): Promise<{ d: Daemon; sock: string; cfg: string }> {
  const sock = path.join(dir, 'agent.sock');
  const cfg = writeConfig(dir, `
agent: { id: diag-board, dataDir: ${dir}/data, logLevel: info }
uplink:
  mqtt: { url: "mqtt://127.0.0.1:${await freePort()}", topicPrefix: edge }
sources:
${sources}
control: { socket: ${sock} }
`);
  const d = startDaemon(['run', '--config', cfg]);
  await d.waitLog((l) => l.msg === 'control socket listening', 20_000);
  return { d, sock, cfg };
}

test('modbus read/scan on a port the daemon polls go through its bus queue; --direct meets the lock', { skip: rtuSkip, timeout: 90_000 }, async (t) => {
  const pty = await startPtyPair();
  t.after(() => pty.stop());
  const slave = await startSlave({ rtu: pty.b, units: [1], baud: 19200 });
  t.after(() => slave.stop());
  const dir = tempDir('edge-diag-');
  const { d, sock } = await daemonWith(dir, `
  - id: meter
    driver: modbus-rtu
    port: ${pty.a}
    baudRate: 19200
    pollInterval: 100ms
    timeout: 500ms
    points:
      - { name: u16, table: holding, address: 1 }
      - { name: i16, table: holding, address: 0, type: int16 }
`);
  t.after(() => d.stop('SIGKILL'));
  const before = await waitSource(sock, 'meter', (s) => s.state === 'ok' && s.readings >= 4, 'first polls', 20_000);

  // Through the daemon, by the pty's real device path (the config names the socat link): the
  // bus is found by the device it resolves to. The daemon keeps polling meanwhile.
  const real = fs.realpathSync(pty.a);
  for (let i = 0; i < 4; i++) {
    const r = await cli(['modbus', 'read', '--port', i % 2 ? real : pty.a, '--address', '2', '--type', 'int32', '--json', '--socket', sock]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`# via the running daemon \\(pid ${d.proc.pid}\\)`));
    const j = JSON.parse(r.stdout);
    assert.deepEqual(j.values, [-123456789]);
    assert.deepEqual(j.raw, [0xf8a4, 0x32eb]);
    assert.equal(j.bus, pty.a);
  }
  const text = await cli(['modbus', 'read', '--port', pty.a, '--address', '1', '--baud', '9600', '--socket', sock]);
  assert.equal(text.code, 0, text.stderr);
  assert.equal(text.stdout, 'holding[1] = 54321\nraw: 0xd431 (uint16, ABCD)\n');
  assert.match(text.stderr, /# the daemon's bus \(source meter\) runs with baudRate 19200; --baud 9600 did not apply/);

  // A Modbus exception through the daemon is the same named failure as direct.
  const exc = await cli(['modbus', 'read', '--port', pty.a, '--address', '500', '--socket', sock]);
  assert.equal(exc.code, 1);
  assert.match(exc.stderr, /via the running daemon/);
  assert.match(exc.stderr, /unit 1 holding 500\.\.500 on .*illegal data address \(exception 2\)/);

  const scan = await cli(['modbus', 'scan', '--port', pty.a, '--units', '1-3', '--timeout', '300ms', '--json', '--socket', sock]);
  assert.equal(scan.code, 0, scan.stderr);
  assert.match(scan.stderr, /via the running daemon/);
  assert.deepEqual(JSON.parse(scan.stdout).found.map((f: { unit: number }) => f.unit), [1]);

  // The daemon held the port all along: opening it directly meets serialport's lock.
  const direct = await cli(['modbus', 'read', '--port', pty.a, '--address', '1', '--direct', '--baud', '19200', '--socket', sock]);
  assert.equal(direct.code, 1);
  assert.match(direct.stderr, /# opening .* directly \(--direct\)/);
  assert.match(direct.stderr, /cannot open .*lock.*another process holds it: is the edge-agent daemon running/i);

  // Its own polls went on: readings kept coming, and nothing interleaved on the wire (no
  // timeouts, frame errors or stale frames counted).
  const after = await waitSource(sock, 'meter', (s) => s.readings > before.readings + 10, 'polls continue');
  assert.deepEqual(after.errors, {});
  assert.equal(after.driverInfo?.staleFrames, 0);
  assert.equal(after.state, 'ok');

  // A port no source of the daemon uses: the daemon says not-held and the CLI opens it itself.
  const other = await cli(['modbus', 'read', '--port', '/dev/edge-agent-no-such-port', '--address', '0', '--socket', sock]);
  assert.equal(other.code, 1);
  assert.match(other.stderr, /does not hold it: opening \/dev\/edge-agent-no-such-port directly/);
  assert.match(other.stderr, /cannot open \/dev\/edge-agent-no-such-port/);
  assert.equal(await d.stop(), 0);
});

test('serial monitor on a port the daemon reads taps its source: raw and parsed lines, exit 0 on SIGINT', { skip: NO_SOCAT, timeout: 60_000 }, async (t) => {
  const pty = await new PtyPair().start();
  t.after(() => pty.stop());
  const dir = tempDir('edge-diag-');
  const { d, sock, cfg } = await daemonWith(dir, `
  - id: weather
    driver: serial
    port: ${pty.device}
    parse: kv
`);
  t.after(() => d.stop('SIGKILL'));
  await waitSource(sock, 'weather', (s) => s.state === 'ok', 'weather open', 20_000);
  // A line before anyone watches: it also settles the "first line after open" rule.
  await pty.write('T=1 H=2\n');
  const before = await waitSource(sock, 'weather', (s) => s.readings >= 2, 'first line read');

  // Two monitors at once (text and JSON): each sees every line, and the daemon still gets them.
  // The second finds the daemon's socket through --config (control.socket) and names the source.
  const text = startCli(['serial', 'monitor', '--port', pty.device, '--socket', sock]);
  const json = startCli(['serial', 'monitor', '--config', cfg, '--source', 'weather', '--json']);
  t.after(() => { text.child.kill('SIGKILL'); json.child.kill('SIGKILL'); });
  await waitFor(() => /via the running daemon/.test(text.io.stderr) && /via the running daemon/.test(json.io.stderr), 20_000, 'monitors attached');
  assert.match(text.io.stderr, new RegExp(`# via the running daemon \\(pid ${d.proc.pid}\\), which holds ${pty.device}`));
  await pty.write('T=-2.5 H=77\r\n');
  await pty.write('garbage\n');
  await waitFor(() => text.io.stdout.includes('garbage') && json.io.stdout.split('\n').length >= 3, 10_000, 'lines on both monitors');
  await waitFor(() => /! /.test(text.io.stdout), 5000, 'error shown');
  const lines = text.io.stdout.split('\n');
  assert.deepEqual(lines.slice(0, 3), ['< "T=-2.5 H=77"', '    T = -2.5', '    H = 77']);
  assert.equal(lines[3], '< "garbage"');
  assert.match(lines[4], /^ {4}! [a-z-]+: /);
  const recs = json.io.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(recs[0], { raw: 'T=-2.5 H=77', points: { T: -2.5, H: 77 } });
  assert.equal(recs[1].raw, 'garbage');
  assert.deepEqual(recs[1].points, {});
  assert.equal(typeof recs[1].error.kind, 'string');

  // Nothing was split between two readers: the daemon counted both lines too.
  const after = await waitSource(sock, 'weather', (s) => s.readings >= before.readings + 2, 'daemon got the lines too');
  assert.equal(after.readings, before.readings + 2);
  assert.equal(Object.values(after.errors).reduce((a, b) => a + b, 0), Object.values(before.errors).reduce((a, b) => a + b, 0) + 1);

  // --direct proves the daemon holds the port.
  const direct = startCli(['serial', 'monitor', '--port', pty.device, '--direct']);
  assert.equal(await direct.exited, 1);
  assert.match(direct.io.stderr, /cannot open .*lock.*another process holds it/i);

  text.child.kill('SIGINT');
  json.child.kill('SIGINT');
  assert.equal(await text.exited, 0, text.io.stderr);
  assert.equal(await json.exited, 0, json.io.stderr);
  // The taps are gone with their clients; the daemon reads on.
  await pty.write('T=3 H=4\n');
  await waitSource(sock, 'weather', (s) => s.readings === before.readings + 4 && s.state === 'ok', 'daemon reads on');
  assert.equal(await d.stop(), 0);
});
