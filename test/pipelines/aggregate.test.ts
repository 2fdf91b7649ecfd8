import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AggregateStage, aggregateSchema } from '../../pipelines/aggregate.js';
import type { Reading } from '../../core/reading.js';
import { FakeClock, rd, stageHarness } from './helpers.js';

const T0 = Date.UTC(2026, 0, 1); // a multiple of 10 s

function make(cfg: Record<string, unknown>, clock = new FakeClock(T0)) {
  const h = stageHarness(clock);
  const stage = new AggregateStage(aggregateSchema.parse(cfg), h.sink, h.ctx);
  return { ...h, stage, clock };
}

const byName = (out: Reading[]) => Object.fromEntries(out.map((r) => [r.point, r.value]));

test('aggregate: every function, exact values, named <point>.<function>, stamped with the window start', () => {
  const h = make({ window: '10s', functions: ['min', 'max', 'mean', 'sum', 'count', 'first', 'last', 'stddev'] });
  for (const [dt, v] of [[0, 4], [2000, 8], [5000, 2], [9999, 6]]) h.stage.push(rd(T0 + dt, v, 'temp', 'boiler'));
  assert.equal(h.out.length, 0, 'nothing before the window closes');
  h.stage.push(rd(T0 + 10_000, 100, 'temp', 'boiler')); // next window: closes the first
  assert.deepEqual(h.out.map((r) => r.point), ['temp.min', 'temp.max', 'temp.mean', 'temp.sum', 'temp.count', 'temp.first', 'temp.last', 'temp.stddev']);
  for (const r of h.out) {
    assert.equal(r.source, 'boiler');
    assert.equal(r.ts, T0);
    assert.equal(r.quality, undefined);
  }
  // values 4 8 2 6: mean 5, population variance (1+9+9+1)/4 = 5
  assert.deepEqual(byName(h.out), { 'temp.min': 2, 'temp.max': 8, 'temp.mean': 5, 'temp.sum': 20, 'temp.count': 4, 'temp.first': 4, 'temp.last': 6, 'temp.stddev': Math.sqrt(5) });
  h.stage.flush();
  assert.deepEqual(h.out.slice(8).map((r) => [r.point, r.ts, r.value]), [
    ['temp.min', T0 + 10_000, 100], ['temp.max', T0 + 10_000, 100], ['temp.mean', T0 + 10_000, 100], ['temp.sum', T0 + 10_000, 100],
    ['temp.count', T0 + 10_000, 1], ['temp.first', T0 + 10_000, 100], ['temp.last', T0 + 10_000, 100], ['temp.stddev', T0 + 10_000, 0],
  ]);
});

test('aggregate: windows align to multiples of window since the epoch, not to the first reading', () => {
  const h = make({ window: '1m', functions: ['count'] });
  h.stage.push(rd(T0 + 59_000, 1)); // window T0
  h.stage.push(rd(T0 + 61_000, 1)); // window T0+60s
  h.stage.push(rd(T0 + 119_999, 1));
  h.stage.flush();
  assert.deepEqual(h.out.map((r) => [r.ts, r.value]), [[T0, 1], [T0 + 60_000, 2]]);
});

test('aggregate: non-numeric values give count, first and last only', () => {
  const h = make({ window: '10s', functions: ['min', 'mean', 'count', 'first', 'last', 'stddev'] });
  for (const [dt, v] of [[0, 'idle'], [1, 'run'], [2, 'fault']] as [number, string][]) h.stage.push(rd(T0 + dt, v, 'state'));
  h.stage.flush();
  assert.deepEqual(byName(h.out), { 'state.count': 3, 'state.first': 'idle', 'state.last': 'fault' });
});

test('aggregate: mixed window: numeric functions over the numbers, count over all', () => {
  const h = make({ window: '10s', functions: ['mean', 'count', 'last'] });
  for (const v of [1, true, 3]) h.stage.push(rd(T0 + 1, v));
  h.stage.flush();
  assert.deepEqual(byName(h.out), { 'p.mean': 2, 'p.count': 3, 'p.last': 3 });
});

test('aggregate: outputs carry the worst input quality and the unsynced mark', () => {
  const h = make({ window: '10s', functions: ['count'] });
  h.stage.push({ ...rd(T0, 1, 'a'), quality: 'uncertain' });
  h.stage.push(rd(T0 + 1, 1, 'a'));
  h.stage.push({ ...rd(T0, 1, 'b'), quality: 'bad', unsynced: true });
  h.stage.push({ ...rd(T0, 1, 'b'), quality: 'uncertain' });
  h.stage.push(rd(T0, 1, 'c'));
  h.stage.flush();
  assert.deepEqual(h.out.map((r) => [r.point, r.quality, r.unsynced]), [['a.count', 'uncertain', undefined], ['b.count', 'bad', true], ['c.count', undefined, undefined]]);
});

test('aggregate: tick closes a window on the monotonic clock, window end + grace, exactly once', () => {
  const h = make({ window: '10s', grace: '500ms', functions: ['count'] });
  h.clock.advance(3000); // wall T0+3s
  h.stage.push(rd(h.clock.now(), 1));
  h.clock.advance(7000 + 499); // end + 499 ms
  h.stage.tick();
  assert.equal(h.out.length, 0, 'still within grace');
  h.stage.push(rd(T0 + 9_800, 1)); // late but within grace: counted in its window
  h.clock.advance(1);
  h.stage.tick();
  assert.deepEqual(h.out.map((r) => [r.ts, r.value]), [[T0, 2]]);
  h.clock.advance(100_000);
  h.stage.tick();
  h.stage.flush();
  assert.equal(h.out.length, 1, 'no second emission of a closed window');
});

test('aggregate: a reading of the already-emitted window after grace is dropped as late, unless unsynced', () => {
  const h = make({ window: '10s', grace: '0ms', functions: ['count'] });
  h.stage.push(rd(T0 + 1000, 1));
  h.clock.advance(10_000);
  h.stage.tick();
  assert.equal(h.out.length, 1);
  h.stage.push(rd(T0 + 9000, 1));
  assert.equal(h.drop('aggregate.late'), 1);
  h.stage.push({ ...rd(T0 + 9000, 1), unsynced: true });
  h.stage.flush();
  assert.deepEqual(h.out.map((r) => [r.ts, r.value, r.unsynced]), [[T0, 1, undefined], [T0, 1, true]]);
});

test('aggregate: a reading stamped before the open window is folded into it (no loss, no duplicate stamp)', () => {
  const h = make({ window: '10s', functions: ['count', 'first'] });
  h.stage.push(rd(T0 + 10_500, 'x'));
  h.stage.push(rd(T0 + 9_000, 'y'));
  h.stage.flush();
  assert.deepEqual(h.out.map((r) => [r.point, r.ts, r.value]), [['p.count', T0 + 10_000, 2], ['p.first', T0 + 10_000, 'x']]);
});

test('aggregate: wall clock stepping forward does not close a window early or twice', () => {
  const h = make({ window: '10s', grace: '1s', functions: ['count'] });
  h.stage.push(rd(T0 + 2000, 1));
  h.clock.jump(3_600_000); // NTP steps the wall clock 1 h forward
  h.stage.tick();
  assert.equal(h.out.length, 0, 'the open window still has its monotonic deadline');
  h.clock.advance(10_999); // opened at wall T0: the end is 10 s away, plus 1 s grace
  h.stage.tick();
  assert.equal(h.out.length, 0);
  h.clock.advance(1);
  h.stage.tick();
  assert.deepEqual(h.out.map((r) => [r.ts, r.value]), [[T0, 1]]);
  h.stage.push(rd(h.clock.now(), 1)); // new window at the new wall time
  h.clock.advance(20_000);
  h.stage.tick();
  h.stage.tick();
  assert.equal(h.out.length, 2);
  assert.equal(h.out[1].ts % 10_000, 0);
  assert.ok(h.out[1].ts >= T0 + 3_600_000);
});

test('aggregate: wall clock stepping back does not stall window closes', () => {
  const h = make({ window: '10s', grace: '1s', functions: ['count'] });
  h.stage.push(rd(T0 + 0, 1));
  h.clock.jump(-3_600_000); // a board with no RTC: NTP steps back an hour
  h.clock.advance(11_000);
  h.stage.tick();
  assert.deepEqual(h.out.map((r) => [r.ts, r.value]), [[T0, 1]], 'closed on the monotonic deadline, not after an hour');
  h.stage.push(rd(h.clock.now(), 1)); // an hour back: a new window there
  h.clock.advance(10_000);
  h.stage.tick();
  assert.equal(h.out.length, 2);
  assert.equal(h.out[1].ts, T0 - 3_600_000 + 10_000);
  assert.equal(h.stage.openWindows, 0);
});

test('aggregate: idle points are forgotten, open windows never are', () => {
  const h = make({ window: '10s', functions: ['count'] });
  for (let i = 0; i < 50; i++) h.stage.push(rd(T0, 1, `p${i}`));
  h.stage.tick();
  assert.equal(h.stage.state.size, 50);
  for (let k = 0; k < 12; k++) {
    h.clock.advance(60_000);
    h.stage.tick();
  }
  assert.equal(h.out.length, 50, 'each window emitted once');
  assert.equal(h.stage.state.size, 0);
});

test('aggregate: config errors', () => {
  assert.ok(!aggregateSchema.safeParse({ window: 0 }).success);
  assert.ok(!aggregateSchema.safeParse({ window: '10s', functions: ['median'] }).success);
  assert.ok(!aggregateSchema.safeParse({ window: '10s', functions: [] }).success);
  assert.ok(!aggregateSchema.safeParse({ window: '10s', functions: ['min', 'min'] }).success);
  assert.ok(!aggregateSchema.safeParse({ functions: ['min'] }).success, 'window required');
  assert.deepEqual(aggregateSchema.parse({ window: '1m' }), { window: 60_000, functions: ['mean'] });
});

/** A run: per step, the clocks advance, maybe the wall clock jumps, maybe a tick, maybe a reading. */
const step = fc.record({
  advance: fc.integer({ min: 0, max: 3000 }),
  jump: fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -600_000, max: 600_000 }) }),
  tick: fc.boolean(),
  point: fc.constantFrom('a', 'b', 'c'),
  value: fc.oneof(fc.double({ min: -1e3, max: 1e3, noNaN: true }), fc.constant('s')),
});

function run(windowMs: number, grace: number, steps: { advance: number; jump: number; tick: boolean; point: string; value: number | string }[]) {
  const clock = new FakeClock(T0 + 1234);
  const h = make({ window: windowMs, grace, functions: ['count', 'mean', 'last'] }, clock);
  let readingsIn = 0;
  for (const s of steps) {
    clock.advance(s.advance);
    if (s.jump) clock.jump(s.jump);
    if (s.tick) h.stage.tick();
    h.stage.push({ source: 'src', point: s.point, ts: clock.now(), value: s.value, unsynced: s.jump !== 0 || undefined });
    readingsIn++;
  }
  return { h, clock, readingsIn };
}

test('property: aggregate count over all windows equals the readings in; windows aligned; each stamp once per point without jumps', () => {
  fc.assert(fc.property(fc.constantFrom(1000, 5000, 10_000, 60_000), fc.integer({ min: 0, max: 2000 }), fc.array(step.map((s) => ({ ...s, jump: 0 })), { maxLength: 200 }), (w, grace, steps) => {
    const { h, readingsIn } = run(w, grace, steps);
    h.stage.flush();
    const counts = h.out.filter((r) => r.point.endsWith('.count'));
    assert.equal(counts.reduce((n, r) => n + (r.value as number), 0) + h.drop('aggregate.late'), readingsIn);
    assert.equal(h.drop('aggregate.late'), 0, 'in-order readings are never late');
    for (const r of h.out) assert.equal(r.ts % w, 0, `window ${r.ts} not aligned to ${w}`);
    const seen = new Set(counts.map((r) => `${r.point}@${r.ts}`));
    assert.equal(seen.size, counts.length, 'no window emitted twice');
  }), { numRuns: 200 });
});

test('property: wall-clock jumps neither lose readings nor stall windows', () => {
  fc.assert(fc.property(fc.constantFrom(1000, 10_000), fc.integer({ min: 0, max: 2000 }), fc.array(step, { maxLength: 200 }), (w, grace, steps) => {
    const { h, clock, readingsIn } = run(w, grace, steps);
    const counts = () => h.out.filter((r) => r.point.endsWith('.count')).reduce((n, r) => n + (r.value as number), 0);
    // No stall: one window plus grace of monotonic time later, a tick has closed everything.
    clock.advance(w + grace);
    h.stage.tick();
    assert.equal(h.stage.openWindows, 0, 'a window outlived its monotonic deadline');
    assert.equal(counts() + h.drop('aggregate.late'), readingsIn);
    for (const r of h.out) assert.equal(r.ts % w, 0);
    h.stage.flush();
    assert.equal(counts() + h.drop('aggregate.late'), readingsIn, 'flush after close emits nothing more');
  }), { numRuns: 200 });
});
