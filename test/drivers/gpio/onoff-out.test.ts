import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { IN_CI } from '../../helpers/system.js';
import { REPO } from '../../helpers/daemon.js';

/* Outputs through the REAL onoff backend, on a tmpfs /sys/class/gpio in a private mount namespace (as onoff-ns.test.ts). */
function canUnshare(): string | undefined {
  const r = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs tmpfs /sys/class'], { encoding: 'utf8' });
  if (r.error) return `unshare unavailable: ${r.error.message}`;
  if (r.status !== 0) return `unshare -m + mount failed (needs root): ${r.stderr.trim()}`;
  return undefined;
}
const why = canUnshare();
if (why && IN_CI) throw new Error(`CI must run the onoff namespace test as root: ${why}`);

test('onoff backend: outputs open at their initial level (activeLow applied), writes drive the line, close unexports', { skip: why ? `${why} (run as root to exercise real onoff)` : false, timeout: 60_000 }, () => {
  const child = path.join(REPO, 'test/drivers/gpio/onoff-out.child.ts');
  const env = { ...process.env };
  delete env.EDGE_AGENT_GPIO_SYSFS;
  const r = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o size=4m tmpfs /sys/class && mkdir /sys/class/gpio && exec "$0" --import tsx "$1"', process.execPath, child], { cwd: REPO, env, encoding: 'utf8', timeout: 50_000 });
  assert.equal(r.status, 0, `child failed:\n${r.stdout}\n${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.equal(out.ok, true);
  assert.deepEqual(out.unexports.sort(), [529, 539]);
  // The pins open concurrently: their first readings come in either order.
  assert.deepEqual(out.readings.slice(0, 2).sort(), [['relay', true], ['valve', false]]);
  assert.deepEqual(out.readings.slice(2), [['relay', false], ['valve', true]]);
});
