import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { startBroker } from '../helpers/broker.js';
import { collect, startDaemon, tempDir, writeConfig } from '../helpers/daemon.js';
import { freePort, IN_CI } from '../helpers/system.js';
import { waitFor } from '../helpers/source-context.js';
import { bufferStats } from '../../agent/cli/buffer.js';
import { cli } from '../helpers/control.js';

/** Tiny filesystems need mount(2): root here and in CI (.ci/run runs as root). */
function canMount(): boolean {
  if (process.getuid?.() !== 0) return false;
  const dir = tempDir('edge-mnt-probe-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'pipe' });
    execFileSync('umount', [dir]);
    return true;
  } catch {
    return false;
  }
}
const mountable = canMount();
if (!mountable && IN_CI) throw new Error('disk-fault tests need root (mount -t tmpfs) in CI');
const skip = mountable ? false : 'needs root to mount a tiny tmpfs (run as root, as CI does)';

function tmpfs(size: string, ro = false): string {
  const dir = tempDir('edge-tmpfs-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755${ro ? ',ro' : ''}`, 'tmpfs', dir]);
  return dir;
}
const umount = (dir: string) => execFileSync('umount', ['-l', dir]);

function config(data: string, url: string, memory = '16KiB'): string {
  return `
agent: { id: disk-board, dataDir: ${data} }
uplink:
  mqtt: { url: "${url}", reconnectMin: 100ms, reconnectMax: 300ms }
  batch: { maxReadings: 20, maxDelay: 100ms }
buffer: { flushInterval: 100ms, memoryMaxBytes: ${memory} }
sources:
  - { id: gen, driver: sim, pollInterval: 5ms, points: [ { name: n, wave: counter } ] }
`;
}

test('data dir on a tmpfs that fills up: one clear error, bounded memory queue with counted drops, recovery when space returns', { skip, timeout: 60_000 }, async (t) => {
  const mnt = tmpfs('384k');
  t.after(() => umount(mnt));
  const dir = tempDir();
  const url = `mqtt://127.0.0.1:${await freePort()}`; // broker down: the outbox must grow
  const d = startDaemon(['run', '--config', writeConfig(dir, config(`${mnt}/data`, url))]);
  t.after(() => d.stop('SIGKILL'));
  await d.waitLog((l) => l.msg === 'edge-agent started');
  // Fill the filesystem, leaving SQLite no room to grow.
  const filler = `${mnt}/filler`;
  const fd = fs.openSync(filler, 'w');
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (e) {
    assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    fs.closeSync(fd);
  }
  const err = await d.waitLog((l) => l.msg?.toString().startsWith('outbox write failed') === true, 20_000);
  assert.match(String(err.msg), /filesystem is full/);
  // SQLite's own SQLITE_FULL, or the outbox stopping short of the disk to keep room for its WAL (ENOSPC).
  assert.match(String(err.err), /SQLITE_FULL|ENOSPC/);
  await d.waitLog((l) => l.msg === 'outbox full: readings dropped' && l.reason === 'memory', 20_000);
  assert.equal(d.proc.exitCode, null, 'still running');
  assert.equal(d.logs.filter((l) => l.msg?.toString().startsWith('outbox write failed')).length, 1, 'one error line, not one per flush');

  fs.rmSync(filler);
  await d.waitLog((l) => l.msg === 'outbox writes work again; held readings are now on disk', 10_000);
  assert.equal(await d.stop(), 0);
  const stopped = await d.waitLog((l) => typeof l.msg === 'string' && l.msg.startsWith('edge-agent stopped'));
  const s = bufferStats(`${mnt}/data`);
  assert.ok(s.droppedMemory > 0, 'drops beyond buffer.memoryMaxBytes are counted');
  assert.equal(s.readings + s.droppedMemory, stopped.readingsProduced, 'every reading is on disk or counted as dropped');
  t.diagnostic(`produced ${stopped.readingsProduced}, stored ${s.readings}, dropped from memory ${s.droppedMemory}`);
});

test('read-only data dir: clear error, readings flow from memory to the broker, outbox opens when the dir becomes writable', { skip, timeout: 60_000 }, async (t) => {
  const mnt = tmpfs('4m', true);
  t.after(() => umount(mnt));
  const dir = tempDir();
  const broker = await startBroker();
  t.after(() => broker.stop());
  const sub = await collect(broker.url, 'edge/disk-board/data');
  t.after(() => sub.close());
  const d = startDaemon(['run', '--config', writeConfig(dir, config(`${mnt}/data`, broker.url))]);
  t.after(() => d.stop('SIGKILL'));
  const err = await d.waitLog((l) => l.msg?.toString().startsWith('cannot open the outbox') === true);
  assert.match(String(err.msg), /read-only/);
  assert.match(String(err.err), /EROFS/);
  await waitFor(() => sub.batches.length >= 5, 15_000, 'batches sent from the memory queue');
  // No durable seq reservation possible: a fresh stream, counted from 1 (not from the wall clock).
  const stream = sub.batches[0].stream;
  assert.match(String(stream), /^[0-9a-v]{8}$/);
  assert.equal(sub.batches[0].seq, 1);

  execFileSync('mount', ['-o', 'remount,rw', mnt]);
  await d.waitLog((l) => l.msg === 'outbox opened', 15_000);
  const n = sub.batches.length;
  await waitFor(() => sub.batches.length >= n + 5, 10_000, 'batches after the outbox opened');
  assert.equal(await d.stop(), 0);
  const stopped = await d.waitLog((l) => typeof l.msg === 'string' && l.msg.startsWith('edge-agent stopped'));
  const left = bufferStats(`${mnt}/data`);
  const values = sub.batches.flatMap((b) => b.readings.map((r) => r.value as number));
  assert.equal(values.length + left.readings, stopped.readingsProduced, 'nothing lost: sent or on disk');
  values.forEach((v, i) => assert.equal(v, i, 'in order, no gap, no repeat'));
  for (let i = 1; i < sub.batches.length; i++) assert.ok(sub.batches[i].seq > sub.batches[i - 1].seq, 'seq strictly increasing across the switch');
  assert.ok(sub.batches.every((b) => b.stream === stream), 'one stream across the switch: it is reserved on disk once the outbox opens');
  assert.equal(bufferStats(`${mnt}/data`).stream, stream);
  assert.equal(d.proc.exitCode, 0);
});

test('read-only data dir with the broker down: the memory queue stays bounded and drops are counted', { skip, timeout: 60_000 }, async (t) => {
  const mnt = tmpfs('4m', true);
  t.after(() => umount(mnt));
  const dir = tempDir();
  const url = `mqtt://127.0.0.1:${await freePort()}`;
  const d = startDaemon(['run', '--config', writeConfig(dir, config(`${mnt}/data`, url, '8KiB'))]);
  t.after(() => d.stop('SIGKILL'));
  await d.waitLog((l) => l.msg?.toString().startsWith('cannot open the outbox') === true);
  const drop = await d.waitLog((l) => l.msg === 'outbox full: readings dropped' && l.reason === 'memory', 15_000);
  assert.ok((drop.dropped as number) > 0);
  execFileSync('mount', ['-o', 'remount,rw', mnt]);
  await d.waitLog((l) => l.msg === 'outbox opened', 15_000);
  assert.equal(await d.stop(), 0);
  const stopped = await d.waitLog((l) => typeof l.msg === 'string' && l.msg.startsWith('edge-agent stopped'));
  const s = bufferStats(`${mnt}/data`);
  assert.ok(s.droppedMemory > 0);
  assert.equal(s.readings + s.droppedMemory, stopped.readingsProduced, 'stored or counted');
});

test('WAL inside the budget: on a 2 MiB tmpfs with buffer.maxBytes 2MiB, db + WAL + shm stay under 2 MiB, no SQLITE_FULL, health follows the disk, all recovers by itself', { skip, timeout: 90_000 }, async (t) => {
  const mnt = tmpfs('2m');
  t.after(() => umount(mnt));
  const dir = tempDir();
  const port = await freePort();
  const url = `mqtt://127.0.0.1:${port}`; // broker down: the outbox fills up to its cap
  const data = `${mnt}/data`;
  const points = Array.from({ length: 20 }, (_, i) => `{ name: p${i}, wave: counter }`).join(', ');
  const cfg = writeConfig(dir, `
agent: { id: wal-board, dataDir: ${data} }
uplink:
  mqtt: { url: "${url}", reconnectMin: 100ms, reconnectMax: 300ms }
  batch: { maxReadings: 20, maxDelay: 100ms }
buffer: { maxBytes: 2MiB, flushInterval: 100ms, memoryMaxBytes: 64KiB }
control: { socket: ${dir}/agent.sock }
sources:
  - { id: gen, driver: sim, pollInterval: 2ms, points: [ ${points} ] }
`);
  const d = startDaemon(['run', '--config', cfg]);
  t.after(() => d.stop('SIGKILL'));
  const files = () => ['outbox.db', 'outbox.db-wal', 'outbox.db-shm'].map((f) => (fs.existsSync(`${data}/${f}`) ? fs.statSync(`${data}/${f}`).size : 0));
  let peak = [0, 0, 0];
  const sampler = setInterval(() => {
    const f = files();
    if (f[0] + f[1] + f[2] > peak[0] + peak[1] + peak[2]) peak = f;
  }, 20);
  t.after(() => clearInterval(sampler));
  await d.waitLog((l) => l.msg === 'outbox full: readings dropped' && l.reason !== 'memory', 40_000);
  await new Promise((r) => setTimeout(r, 3000)); // keep overflowing
  const health = async () => JSON.parse((await cli(['status', '--socket', `${dir}/agent.sock`, '--json'])).stdout).health;
  assert.equal((await health()).healthy, true, 'full by policy is not a fault: the outbox still takes writes');
  assert.equal(d.logs.filter((l) => String(l.msg).startsWith('outbox write failed')).length, 0, `no write failure: ${JSON.stringify(d.logs.find((l) => String(l.msg).startsWith('outbox write failed')))}`);
  const total = peak[0] + peak[1] + peak[2];
  t.diagnostic(`peak footprint ${total} B (db ${peak[0]}, wal ${peak[1]}, shm ${peak[2]}) for maxBytes ${2 * 1024 * 1024}`);
  assert.ok(total <= 2 * 1024 * 1024, `footprint ${total} B within buffer.maxBytes`);

  // Someone else fills the filesystem: writes fail, health says so; space returns: it recovers alone.
  const filler = `${mnt}/filler`;
  const fd = fs.openSync(filler, 'w');
  try {
    for (;;) fs.writeSync(fd, Buffer.alloc(4096, 1));
  } catch {
    /* ENOSPC */
  } finally {
    fs.closeSync(fd);
  }
  await d.waitLog((l) => String(l.msg).startsWith('outbox write failed'), 20_000);
  const bad = await health();
  assert.equal(bad.healthy, false, 'degraded while writes fail');
  assert.equal(bad.outboxWritable, false);
  fs.rmSync(filler);
  await d.waitLog((l) => l.msg === 'outbox writes work again; held readings are now on disk', 20_000);
  assert.equal((await health()).healthy, true);

  // The broker returns: the backlog drains and acknowledged batches are deleted (the WAL has room).
  const broker = await startBroker({ port });
  t.after(() => broker.stop());
  await waitFor(() => bufferStats(data).rows < 20, 30_000, 'backlog drained and deleted');
  assert.equal(await d.stop(), 0);
  const after = files();
  assert.ok(after[0] + after[1] + after[2] <= 2 * 1024 * 1024, `after the drain ${after}`);
});

test('buffer.maxBytes larger than the filesystem (default 64MiB on a 2 MiB tmpfs): the outbox stops short of the disk, drops by policy, and drains and deletes when the broker returns', { skip, timeout: 90_000 }, async (t) => {
  const mnt = tmpfs('2m');
  t.after(() => umount(mnt));
  const dir = tempDir();
  const port = await freePort();
  const data = `${mnt}/data`;
  const points = Array.from({ length: 20 }, (_, i) => `{ name: p${i}, wave: counter }`).join(', ');
  const cfg = writeConfig(dir, `
agent: { id: small-card, dataDir: ${data} }
uplink:
  mqtt: { url: "mqtt://127.0.0.1:${port}", reconnectMin: 100ms, reconnectMax: 300ms }
  batch: { maxReadings: 20, maxDelay: 100ms }
buffer: { flushInterval: 100ms, memoryMaxBytes: 64KiB }
control: { socket: ${dir}/agent.sock }
sources:
  - { id: gen, driver: sim, pollInterval: 2ms, points: [ ${points} ] }
`);
  const failures = (d: { logs: Record<string, unknown>[] }) => d.logs.filter((l) => String(l.msg).startsWith('outbox write failed'));
  let d = startDaemon(['run', '--config', cfg]);
  t.after(() => d.stop('SIGKILL'));
  const drop = await d.waitLog((l) => l.msg === 'outbox full: readings dropped' && l.reason === 'overflow', 40_000);
  t.diagnostic(`dropping at ${drop.batchCapBytes} B of batches on a 2 MiB filesystem (buffer.maxBytes ${drop.capBytes})`);
  await new Promise((r) => setTimeout(r, 2000));
  assert.deepEqual(failures(d), [], 'the disk never filled: no SQLITE_FULL');
  const st = JSON.parse((await cli(['status', '--socket', `${dir}/agent.sock`, '--json'])).stdout);
  assert.equal(st.health.outboxWritable, true);
  // A restart on the full outbox works too (issue 12: SQLITE_FULL forever, also after restarts).
  assert.equal(await d.stop(), 0);
  d = startDaemon(['run', '--config', cfg]);
  await d.waitLog((l) => l.msg === 'edge-agent started');
  const broker = await startBroker({ port });
  t.after(() => broker.stop());
  await waitFor(() => bufferStats(data).rows < 20, 30_000, 'backlog drained and its rows deleted');
  assert.equal(await d.stop(), 0);
  assert.deepEqual(failures(d), [], 'no write failure after the restart either');
});
