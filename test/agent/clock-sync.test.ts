import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClockSync } from '../../agent/clock-sync.js';
import { SourceRunner } from '../../agent/runtime/source-runner.js';
import { BatchEncoder } from '../../agent/outbox/encode.js';
import { silentLogger } from '../../core/log.js';
import type { Reading } from '../../core/reading.js';
import type { DriverDefinition } from '../../drivers/types.js';
import { FakeClock } from '../pipelines/helpers.js';

const FILE = '/run/systemd/timesync/synchronized';
const DIR = '/run/systemd/timesync';

function make(files: Set<string>, clock = new FakeClock()) {
  const sync = new ClockSync({ clock, exists: (f) => files.has(f), holdMs: 10_000, jumpMs: 1000 });
  return { sync, clock, files };
}

test('clock-sync: without timesyncd the clock is trusted (state unknown) unless it is implausibly old', () => {
  const { sync } = make(new Set());
  assert.equal(sync.unsynced(), false);
  assert.equal(sync.status().source, 'unknown');
  const old = make(new Set(), new FakeClock(Date.UTC(1970, 0, 1, 0, 0, 42)));
  assert.equal(old.sync.unsynced(), true, 'a board without RTC booting in 1970');
});

test('clock-sync: timesyncd running but not yet synchronised -> unsynced until it touches the file', () => {
  const { sync, clock, files } = make(new Set([DIR]));
  assert.equal(sync.unsynced(), true);
  assert.equal(sync.status().source, 'timesyncd');
  files.add(FILE);
  clock.advance(1000);
  sync.poll();
  assert.equal(sync.unsynced(), false);
  assert.equal(sync.status().synced, true);
});

test('clock-sync: a wall-clock jump > 1 s vs monotonic marks readings unsynced for holdMs, then clears', () => {
  const { sync, clock } = make(new Set([DIR, FILE]));
  assert.equal(sync.unsynced(), false);
  clock.advance(1000);
  clock.jump(900); // below the threshold: slewing or scheduling noise
  sync.poll();
  assert.equal(sync.unsynced(), false);
  assert.equal(sync.jumps, 0);
  clock.advance(1000);
  clock.jump(-5000);
  sync.poll();
  assert.equal(sync.unsynced(), true);
  assert.equal(sync.jumps, 1);
  assert.equal(sync.lastJump?.byMs, -5000);
  for (let i = 0; i < 9; i++) {
    clock.advance(1000);
    sync.poll();
    assert.equal(sync.unsynced(), true, `still held after ${i + 1} s`);
  }
  clock.advance(1000);
  sync.poll();
  assert.equal(sync.unsynced(), false, 'cleared after holdMs');
});

test('clock-sync: readings a SourceRunner stamps while unsynced carry the mark, encoded as "clock":"unsynced"', async () => {
  const { sync, clock } = make(new Set([DIR]));
  const got: Reading[] = [];
  const def = { name: 'fake', create: () => ({ open: async () => {}, close: async () => {} }) } as unknown as DriverDefinition;
  const runner = new SourceRunner({ id: 'src', driver: 'fake', enabled: true } as never, def, (r) => got.push(r), silentLogger, clock, '/tmp', sync.unsynced);
  runner.ctx.emit('p', 1);
  const synced = new ClockSync({ clock, exists: (f) => f === DIR || f === FILE });
  const runner2 = new SourceRunner({ id: 'src', driver: 'fake', enabled: true } as never, def, (r) => got.push(r), silentLogger, clock, '/tmp', synced.unsynced);
  runner2.ctx.emit('p', 2);
  assert.equal(got[0].unsynced, true);
  assert.equal(got[1].unsynced, undefined);
  const enc = new BatchEncoder('a');
  assert.match(enc.reading(got[0]), /"clock":"unsynced"/);
  assert.doesNotMatch(enc.reading(got[1]), /clock/);
});
