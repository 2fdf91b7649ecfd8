// Issue 12 item 4: one daemon per data dir, against the built daemon.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { BUNDLE, startDaemon, tempDir, writeConfig } from '../../helpers/daemon.js';
import { DataDirLock, DataDirBusyError } from '../../../agent/runtime/data-dir-lock.js';

function config(dir: string, sock: string): string {
  return writeConfig(dir, `agent: { id: lock1, dataDir: ${dir}/data }
uplink:
  mqtt: { url: "mqtt://127.0.0.1:1" }
control: { socket: ${dir}/${sock} }
sources:
  - { id: s, driver: sim, pollInterval: 50ms, points: [ { name: w, wave: counter } ] }
`, `${sock}.yaml`);
}

test('a second daemon on the same data dir exits 1 naming the holder; buffer stats still reads; after SIGKILL of the first a new one starts', async () => {
  const dir = tempDir();
  const first = startDaemon(['run', '--config', config(dir, 'a.sock')]);
  try {
    await first.waitLog((l) => l.msg === 'edge-agent started');
    const second = startDaemon(['run', '--config', config(dir, 'b.sock')]);
    const code = await Promise.race([second.exited, new Promise((r) => setTimeout(() => r('hung'), 15_000))]);
    if (code === 'hung') await second.stop('SIGKILL');
    assert.equal(code, 1, second.stderr);
    assert.equal(second.stderr.trim(), `agent.dataDir ${dir}/data is in use by another edge-agent (pid ${first.proc.pid}): one daemon per data dir; stop that one or give this one its own agent.dataDir`);
    assert.ok(!second.logs.some((l) => l.msg === 'edge-agent started'));
    // Read-only tools still work beside the running daemon.
    await new Promise((r) => setTimeout(r, 1200)); // a flush has written something
    const stats = spawnSync(process.execPath, [BUNDLE, 'buffer', 'stats', '--data-dir', `${dir}/data`, '--json'], { encoding: 'utf8' });
    assert.equal(stats.status, 0, stats.stderr);
    assert.equal(typeof JSON.parse(stats.stdout).readings, 'number');
    // SIGKILL leaves no lock behind (the kernel drops it with the process): no manual cleanup.
    first.proc.kill('SIGKILL');
    await first.exited;
    const third = startDaemon(['run', '--config', config(dir, 'c.sock')]);
    try {
      await third.waitLog((l) => l.msg === 'edge-agent started');
      assert.equal(third.proc.exitCode, null);
    } finally {
      assert.equal(await third.stop(), 0);
    }
    // A clean stop releases it too.
    const fourth = startDaemon(['run', '--config', config(dir, 'd.sock')]);
    await fourth.waitLog((l) => l.msg === 'edge-agent started');
    assert.equal(await fourth.stop(), 0);
  } finally {
    await first.stop('SIGKILL');
  }
});

test('in one process: the lock is exclusive per holder and released on release()', () => {
  const dir = tempDir();
  const a = DataDirLock.acquire(dir);
  // POSIX record locks are per process, but SQLite tracks its own connections: a second
  // acquire in the same process is refused as well (two agents in one test process).
  assert.throws(() => DataDirLock.acquire(dir), (e: unknown) => e instanceof DataDirBusyError && e.holderPid === process.pid);
  a.release();
  DataDirLock.acquire(dir).release();
});

test('a data dir that cannot be written at all: the daemon still runs (readings in memory) and warns it cannot lock it', async () => {
  const dir = tempDir();
  const file = `${dir}/not-a-dir`;
  (await import('node:fs')).writeFileSync(file, 'x');
  const cfg = writeConfig(dir, `agent: { id: lock2, dataDir: ${file}/data }
uplink:
  mqtt: { url: "mqtt://127.0.0.1:1" }
control: { socket: ${dir}/agent.sock }
sources:
  - { id: s, driver: sim, pollInterval: 50ms, points: [ { name: w, wave: counter } ] }
`);
  const d = startDaemon(['run', '--config', cfg]);
  try {
    const w = await d.waitLog((l) => String(l.msg).startsWith('cannot lock agent.dataDir'));
    assert.match(String(w.err), /ENOTDIR|EEXIST/);
    await d.waitLog((l) => l.msg === 'edge-agent started');
  } finally {
    assert.equal(await d.stop(), 0);
  }
});
