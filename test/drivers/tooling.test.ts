import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { drivers, toolingHooks } from '../../drivers/index.js';
import type { CliTools, ControlHandler } from '../../drivers/tooling.js';
import { SharedHost } from '../../drivers/host.js';

// The drivers' tooling hooks: each function once (the two Modbus drivers share theirs), every
// driver's commands and control methods come from its own folder.

const tools: CliTools = {
  defaultSocket: '/run/test.sock',
  throughDaemon: async () => undefined,
  loadSources: () => [],
};

test('cli hooks: one command group per driver family, with their subcommands', () => {
  const program = new Command('edge-agent');
  for (const register of toolingHooks('cli')) register(program, tools);
  const groups = Object.fromEntries(program.commands.map((c) => [c.name(), c.commands.map((s) => s.name())]));
  assert.deepEqual(groups, { serial: ['list', 'monitor'], gpio: ['read', 'watch', 'write'], modbus: ['read', 'scan', 'write', 'plan'] });
  const rtu = drivers.find((d) => d.name === 'modbus-rtu')!;
  const tcp = drivers.find((d) => d.name === 'modbus-tcp')!;
  assert.equal(rtu.cli, tcp.cli, 'the Modbus drivers share one cli hook');
  // The help text names the socket the CLI passed in, not one the driver made up.
  const scan = program.commands.find((c) => c.name() === 'modbus')!.commands.find((c) => c.name() === 'scan')!;
  assert.match(scan.helpInformation(), /\/run\/test\.sock/);
});

test('control hooks: each method registered once, on the host it was given', () => {
  const methods = new Map<string, ControlHandler>();
  const host = new SharedHost();
  for (const register of toolingHooks('control')) {
    register({ register: (m, _help, h) => {
      assert.ok(!methods.has(m), `${m} registered twice`);
      methods.set(m, h);
    } }, host);
  }
  assert.deepEqual([...methods.keys()].sort(), ['modbus.read', 'modbus.scan', 'serial.monitor']);
});

test('SharedHost: one value per key, made once', () => {
  const host = new SharedHost();
  let made = 0;
  const a = host.shared('k', () => ({ n: ++made }));
  const b = host.shared('k', () => ({ n: ++made }));
  assert.equal(a, b);
  assert.equal(made, 1);
  assert.notEqual(new SharedHost().shared('k', () => ({ n: 0 })), a, 'another agent has its own');
});
