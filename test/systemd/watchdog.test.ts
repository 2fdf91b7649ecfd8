import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Watchdog, watchdogIntervalMs, type ProgressProbe } from '../../agent/systemd/watchdog.js';
import { systemdNotifier, type Notifier } from '../../agent/systemd/notify.js';
import { silentLogger } from '../../core/log.js';
import { systemClock, type Clock } from '../../core/clock.js';

test('watchdogIntervalMs: half of WATCHDOG_USEC, off when unset, invalid or meant for another PID', () => {
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }), 15_000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 42), 15_000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '43' }, 42), undefined);
  assert.equal(watchdogIntervalMs({}), undefined);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: 'abc' }), undefined);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '0' }), undefined);
});

test('Watchdog.stalls names each part silent longer than it may be, counting from start before its first sign', () => {
  let now = 1000;
  const clock: Clock = { ...systemClock, now: () => now, mono: () => now };
  const marks = { a: 0, b: 0 };
  const probes = (): ProgressProbe[] => [
    { name: 'a', last: () => marks.a, maxSilenceMs: 500 },
    { name: 'b', last: () => marks.b, maxSilenceMs: 2000 },
  ];
  const notifier: Notifier = { enabled: true, busy: false, send: async () => true };
  const wd = new Watchdog(notifier, 1000, probes, silentLogger, clock).start();
  try {
    assert.deepEqual(wd.stalls(1400), [], 'no sign yet, but only 400 ms since start');
    assert.deepEqual(wd.stalls(1600).map((s) => s.split(' ')[0]), ['a']);
    marks.a = 1550;
    assert.deepEqual(wd.stalls(1600), []);
    assert.deepEqual(wd.stalls(3100).map((s) => s.split(' ')[0]), ['a', 'b']);
  } finally {
    wd.stop();
  }
});

test('systemdNotifier without NOTIFY_SOCKET is a no-op; with a missing helper it reports failure', async () => {
  const off = systemdNotifier(silentLogger, {});
  assert.equal(off.enabled, false);
  assert.equal(await off.send('READY=1'), false);
  const broken = systemdNotifier(silentLogger, { NOTIFY_SOCKET: '/nonexistent/sock', PATH: process.env.PATH }, 'edge-agent-no-such-notify-helper');
  assert.equal(broken.enabled, true);
  assert.equal(await broken.send('READY=1'), false);
  assert.equal(broken.busy, false);
});
