import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PtyPair, SKIP_REASON } from './pty.js';
import { REPO } from './fixtures.js';
import { startSource } from './make.js';
import { waitFor } from '../../helpers/source-context.js';

const CLI = ['--import', 'tsx', path.join(REPO, 'agent/cli/main.ts')];

function startCli(args: string[]) {
  const child = spawn(process.execPath, [...CLI, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  const io = { stdout: '', stderr: '', code: null as number | null };
  child.stdout.on('data', (d) => (io.stdout += d));
  child.stderr.on('data', (d) => (io.stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r((io.code = c))));
  return { child, io, exited };
}

test('edge-agent serial list --json prints an array of ports', () => {
  const out = execFileSync(process.execPath, [...CLI, 'serial', 'list', '--json'], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const ports = JSON.parse(out.trim().split('\n').at(-1)!);
  assert.ok(Array.isArray(ports));
  for (const p of ports) assert.match(p.path, /^\/dev\//);
});

test('edge-agent serial monitor', { skip: SKIP_REASON, timeout: 60_000 }, async (t) => {
  await t.test('--parse kv --json: raw line and parsed points per line; exits 0 on SIGINT', async () => {
    const pty = await new PtyPair().start();
    const cli = startCli(['serial', 'monitor', '--port', pty.device, '--baud', '19200', '--parse', 'kv', '--json']);
    try {
      await waitFor(() => cli.io.stderr.includes('# ok'), 20_000, 'monitor opened the port');
      await pty.write('T=21.5 H=40\r\nnothing here\r\n');
      await waitFor(() => cli.io.stdout.split('\n').filter(Boolean).length >= 2, 10_000, 'two records');
      const recs = cli.io.stdout.trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(recs[0], { raw: 'T=21.5 H=40', points: { T: 21.5, H: 40 } });
      assert.equal(recs[1].raw, 'nothing here');
      assert.equal(recs[1].error.kind, 'no-match');
      cli.child.kill('SIGINT');
      assert.equal(await cli.exited, 0);
    } finally {
      cli.child.kill('SIGKILL');
      await pty.stop();
    }
  });

  await t.test('--config --source: uses that source\'s delimiter and parser', async () => {
    const pty = await new PtyPair().start();
    const cfgFile = path.join(pty.dir, 'config.yaml');
    fs.writeFileSync(cfgFile, [
      'uplink: { mqtt: { url: "mqtt://localhost" } }',
      'sources:',
      '  - id: weather',
      '    driver: serial',
      '    port: /dev/ttyACM0',
      '    delimiter: "\\r\\n"',
      "    parse: { regex: 'T=(?<temp>-?\\d+(\\.\\d+)?) H=(?<hum>\\d+(\\.\\d+)?)' }",
      '',
    ].join('\n'));
    const cli = startCli(['serial', 'monitor', '--port', pty.device, '--config', cfgFile, '--source', 'weather']);
    try {
      await waitFor(() => cli.io.stderr.includes('# ok'), 20_000, 'monitor opened the port');
      await pty.write('T=-2.5 H=77\r\n');
      await waitFor(() => cli.io.stdout.includes('hum'), 10_000, 'parsed output');
      assert.equal(cli.io.stdout, '< "T=-2.5 H=77"\n    temp = -2.5\n    hum = 77\n');
      cli.child.kill('SIGINT');
      assert.equal(await cli.exited, 0);
    } finally {
      cli.child.kill('SIGKILL');
      await pty.stop();
    }
  });

  await t.test('a port another process holds: exit 1 naming the lock, not two readers splitting the lines', async () => {
    const pty = await new PtyPair().start();
    const holder = startSource({ port: pty.device, parse: 'kv' });
    try {
      await holder.driver.open();
      await waitFor(() => holder.states.some((x) => x.state === 'ok'), 5000, 'holder open');
      const cli = startCli(['serial', 'monitor', '--port', pty.device]);
      assert.equal(await cli.exited, 1);
      assert.match(cli.io.stderr, /edge-agent: cannot open .*lock.*another process holds it/i);
    } finally {
      await holder.driver.close();
      await pty.stop();
    }
  });

  await t.test('a port that does not exist: exit 1 with the reason; no --port: exit 2', async () => {
    const bad = startCli(['serial', 'monitor', '--port', '/dev/edge-agent-no-such-port']);
    assert.equal(await bad.exited, 1);
    assert.match(bad.io.stderr, /edge-agent: cannot open \/dev\/edge-agent-no-such-port: .*No such file/);
    const usage = startCli(['serial', 'monitor']);
    assert.equal(await usage.exited, 2);
    assert.match(usage.io.stderr, /--port is required/);
  });
});
