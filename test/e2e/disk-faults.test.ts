import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { startBroker } from '../helpers/broker.js';
import { collect, startDaemon, tempDir, writeConfig } from '../helpers/daemon.js';
import { freePort, IN_CI } from '../helpers/system.js';
import { waitFor } from '../helpers/source-context.js';
import { bufferStats } from '../../agent/cli/buffer.js';

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
  assert.match(String(err.err), /SQLITE_FULL/);
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
  // Seqs handed out without the database stay above anything it could have stored (wall-clock floor).
  assert.ok(sub.batches[0].seq > 1.6e12, `seq ${sub.batches[0].seq}`);

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
