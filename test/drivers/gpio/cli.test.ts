import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { REPO, tempDir } from '../../helpers/daemon.js';
import { waitFor } from '../../helpers/source-context.js';
import { FakeSysfs, PI4_NEW_KERNEL } from './fake-sysfs.js';

/*
 * `edge-agent gpio read|watch` as a child process (from source via tsx, so the test runs without
 * a bundle) against a fake sysfs tree of real files that this process services like a kernel.
 */

function cli(args: string[]) {
  const p = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'agent/cli/main.ts'), ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d: Buffer) => (stdout += d));
  p.stderr.on('data', (d: Buffer) => (stderr += d));
  const code = new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
  return { p, code, out: () => stdout, err: () => stderr };
}

function tree(t: { after: (fn: () => void) => void }) {
  const sys = new FakeSysfs(path.join(tempDir('gpio-cli-'), 'gpio'), PI4_NEW_KERNEL).start();
  t.after(() => sys.stop());
  return sys;
}

test('gpio read 17 --json: resolves gpio529 on the base-512 chip, exports, reads, unexports', async (t) => {
  const sys = tree(t);
  sys.set(529, 1);
  const r = cli(['gpio', 'read', '17', '--sysfs-root', sys.root, '--json']);
  assert.equal(await r.code, 0, r.err());
  assert.deepEqual(JSON.parse(r.out()), { line: 17, gpio: 529, chip: 'pinctrl-bcm2711', base: 512, value: 1, activeLow: false, shared: false, backend: 'sysfs' });
  sys.service();
  assert.deepEqual(sys.exports, [529]);
  assert.deepEqual(sys.unexports, [529]);
  const inv = cli(['gpio', 'read', '17', '--sysfs-root', sys.root, '--active-low']);
  assert.equal(await inv.code, 0, inv.err());
  assert.equal(inv.out(), 'line 17 (gpio529 on pinctrl-bcm2711): 0\n');
});

test('gpio read on a line another program exported: read only, left exported and unconfigured', async (t) => {
  const sys = tree(t);
  fs.writeFileSync(path.join(sys.root, 'export'), '529');
  sys.service();
  fs.writeFileSync(path.join(sys.dir(529), 'edge'), 'rising\n'); // the owner's setting
  sys.set(529, 1);
  const r = cli(['gpio', 'read', '17', '--sysfs-root', sys.root, '--json']);
  assert.equal(await r.code, 0, r.err());
  assert.equal(JSON.parse(r.out()).shared, true);
  sys.service();
  assert.deepEqual(sys.unexports, []);
  assert.equal(sys.attr(529, 'edge'), 'rising');
});

test('gpio watch 17 --debounce --count: initial level, then each accepted change', { timeout: 30_000 }, async (t) => {
  const sys = tree(t);
  const r = cli(['gpio', 'watch', '17', '--sysfs-root', sys.root, '--json', '--count', '2', '--debounce', '30ms', '--poll-interval', '2ms']);
  t.after(() => r.p.kill());
  const lines = () => r.out().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  await waitFor(() => lines().length === 1, 15_000, 'initial line');
  sys.set(529, 1);
  await waitFor(() => lines().length === 2, 10_000, 'rising');
  sys.set(529, 0);
  assert.equal(await r.code, 0, r.err());
  assert.deepEqual(lines().map((l) => [l.gpio, l.value, l.event]), [[529, 0, 'initial'], [529, 1, 'rising'], [529, 0, 'falling']]);
  assert.match(r.err(), /falling back to polling the value every 2 ms/, 'the polling fallback is said on stderr');
  sys.service();
  assert.deepEqual(sys.unexports, [529]);
});

test('gpio: usage errors exit 2, a missing line or tree exits 1 naming it', async (t) => {
  const sys = tree(t);
  const bad = cli(['gpio', 'read', 'seventeen']);
  assert.equal(await bad.code, 2);
  assert.match(bad.err(), /LINE must be a BCM line number/);
  const edge = cli(['gpio', 'watch', '17', '--edge', 'up', '--sysfs-root', sys.root]);
  assert.equal(await edge.code, 2);
  const far = cli(['gpio', 'read', '60', '--sysfs-root', sys.root]);
  assert.equal(await far.code, 1);
  assert.match(far.err(), /line 60 is beyond gpiochip512 "pinctrl-bcm2711"/);
  const none = cli(['gpio', 'read', '17', '--sysfs-root', path.join(sys.root, 'nope')]);
  assert.equal(await none.code, 1);
  assert.match(none.err(), /no sysfs GPIO tree at .*nope/);
});
