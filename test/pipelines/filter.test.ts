import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FilterStage, filterSchema } from '../../pipelines/filter.js';
import { FakeClock, rd, stageHarness, tv } from './helpers.js';

function make(cfg: Record<string, unknown>, clock = new FakeClock()) {
  const h = stageHarness(clock);
  const stage = new FilterStage(filterSchema.parse(cfg), h.sink, h.ctx);
  return { ...h, stage, clock };
}

test('filter: min/max drop outside [min, max], bounds inclusive, counted by reason', () => {
  const h = make({ min: -40, max: 150 });
  for (const [ts, v] of [[1, -41], [2, -40], [3, 20], [4, 150], [5, 150.01]]) h.stage.push(rd(ts, v));
  assert.deepEqual(tv(h.out), [[2, -40], [3, 20], [4, 150]]);
  assert.equal(h.drop('filter.min'), 1);
  assert.equal(h.drop('filter.max'), 1);
});

test('filter: non-finite numbers are dropped even with action flag; booleans and strings pass', () => {
  const h = make({ min: 0, max: 10, action: 'flag' });
  for (const v of [NaN, Infinity, -Infinity, true, 'x', 5]) h.stage.push(rd(1, v as number));
  assert.deepEqual(h.out.map((r) => r.value), [true, 'x', 5]);
  assert.equal(h.drop('filter.non-finite'), 3);
});

test('filter: maxRate rejects spikes against the last PASSED value, in units per second', () => {
  const h = make({ maxRate: 5 });
  const input: [number, number][] = [[0, 10], [1000, 11], [2000, 50], [3000, 12], [3100, 13], [4000, 13.2]];
  for (const [ts, v] of input) h.stage.push(rd(ts, v));
  // 50: 39 units in 1 s. 12: 1 unit in 2 s vs 11. 13: 1 unit in 0.1 s = 10/s. 13.2: 1.2 in 1 s vs 12.
  assert.deepEqual(tv(h.out), [[0, 10], [1000, 11], [3000, 12], [4000, 13.2]]);
  assert.equal(h.drop('filter.maxRate'), 2);
});

test('filter: a real level change passes once the elapsed time makes the rate plausible', () => {
  const h = make({ maxRate: 1 });
  h.stage.push(rd(0, 0));
  h.stage.push(rd(1000, 10)); // 10/s: spike
  h.stage.push(rd(5000, 10)); // 2/s: still too fast
  h.stage.push(rd(10_000, 10)); // 1/s: passes
  assert.deepEqual(tv(h.out), [[0, 0], [10_000, 10]]);
});

test('filter: wall clock stepping back restarts the maxRate reference instead of muting the point', () => {
  const h = make({ maxRate: 1 });
  h.stage.push(rd(100_000, 0));
  h.stage.push(rd(50_000, 100)); // ts went back: rate unknowable -> pass, new reference
  h.stage.push(rd(51_000, 100.5));
  assert.deepEqual(tv(h.out), [[100_000, 0], [50_000, 100], [51_000, 100.5]]);
});

test('filter: absolute deadband against the last passed value', () => {
  const h = make({ deadband: 0.5 });
  for (const [ts, v] of [[1, 10], [2, 10.2], [3, 10.4], [4, 10.6], [5, 10.3], [6, 10.1]]) h.stage.push(rd(ts, v));
  // 10.6-10 = 0.6 passes; 10.3 is 0.3 from 10.6; 10.1 is 0.5 from 10.6: not smaller, passes.
  assert.deepEqual(tv(h.out), [[1, 10], [4, 10.6], [6, 10.1]]);
  assert.equal(h.drop('filter.deadband'), 3);
});

test('filter: deadbandPercent relative to the last passed magnitude; the larger band wins with both', () => {
  const h = make({ deadbandPercent: 10 });
  for (const [ts, v] of [[1, 100], [2, 109], [3, 111], [4, 100.5], [5, 99]]) h.stage.push(rd(ts, v));
  // band 10 around 100: 109 dropped, 111 passes; band 11.1 around 111: 100.5 dropped, 99 passes.
  assert.deepEqual(tv(h.out), [[1, 100], [3, 111], [5, 99]]);

  const both = make({ deadband: 2, deadbandPercent: 1 });
  for (const [ts, v] of [[1, 10], [2, 11.9], [3, 12], [4, 1000], [5, 1009]]) both.stage.push(rd(ts, v));
  assert.deepEqual(tv(both.out), [[1, 10], [3, 12], [4, 1000]]);
});

test('filter: maxSilence lets a steady value through the deadband as a heartbeat', () => {
  const h = make({ deadband: 1, maxSilence: '10s' });
  for (const ts of [0, 5000, 9999, 10_000, 15_000, 20_000]) h.stage.push(rd(ts, 5));
  assert.deepEqual(tv(h.out), [[0, 5], [10_000, 5], [20_000, 5]]);
});

test('filter: action flag keeps rejected readings with quality bad; they do not become the reference', () => {
  const h = make({ max: 100, maxRate: 10, deadband: 1, action: 'flag' });
  h.stage.push(rd(0, 50));
  h.stage.push(rd(1000, 500)); // max -> flagged
  h.stage.push(rd(2000, 90)); // 40 in 2 s vs 50 -> maxRate flagged
  h.stage.push(rd(3000, 50.5)); // deadband vs 50 (not vs 90): dropped, never flagged
  h.stage.push(rd(4000, 60));
  assert.deepEqual(h.out.map((r) => [r.ts, r.value, r.quality]), [[0, 50, undefined], [1000, 500, 'bad'], [2000, 90, 'bad'], [4000, 60, undefined]]);
  assert.equal(h.drop('filter.max.flagged'), 1);
  assert.equal(h.drop('filter.maxRate.flagged'), 1);
  assert.equal(h.drop('filter.deadband'), 1);
});

test('filter: state is per source/point', () => {
  const h = make({ deadband: 1 });
  h.stage.push(rd(1, 10, 'a'));
  h.stage.push(rd(1, 10.5, 'b'));
  h.stage.push(rd(1, 10.5, 'a', 'other'));
  h.stage.push(rd(2, 10.5, 'a'));
  assert.deepEqual(h.out.map((r) => `${r.source}/${r.point}=${r.value}`), ['s/a=10', 's/b=10.5', 'other/a=10.5']);
});

test('filter: state of points that stopped reporting is evicted on tick (bounded memory)', () => {
  const h = make({ deadband: 1 });
  for (let i = 0; i < 100; i++) h.stage.push(rd(1, 10, `p${i}`));
  assert.equal(h.stage.state.size, 100);
  for (let k = 0; k < 15; k++) {
    h.clock.advance(60_000);
    h.stage.push(rd(1 + k, 10, 'p0')); // p0 keeps reporting
    h.stage.tick();
  }
  assert.equal(h.stage.state.size, 1, 'only the live point keeps state');
});

test('filter: config errors name the key', () => {
  const r = filterSchema.safeParse({ min: 10, max: 0 });
  assert.ok(!r.success);
  assert.deepEqual(r.error.issues[0].path, ['max']);
  const u = filterSchema.safeParse({ mni: 1 });
  assert.ok(!u.success && /mni/.test(JSON.stringify(u.error.issues)));
  assert.ok(!filterSchema.safeParse({ action: 'drop-it' }).success);
});

test('property: no non-finite value ever leaves filter, whatever the config', () => {
  const value = fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity), fc.boolean(), fc.string({ maxLength: 3 }));
  const cfg = fc.record({
    min: fc.option(fc.double({ min: -1e6, max: 0, noNaN: true }), { nil: undefined }),
    max: fc.option(fc.double({ min: 0, max: 1e6, noNaN: true }), { nil: undefined }),
    maxRate: fc.option(fc.double({ min: 0.001, max: 1e6, noNaN: true }), { nil: undefined }),
    deadband: fc.option(fc.double({ min: 0, max: 10, noNaN: true }), { nil: undefined }),
    deadbandPercent: fc.option(fc.double({ min: 0, max: 50, noNaN: true }), { nil: undefined }),
    action: fc.constantFrom('drop', 'flag'),
  });
  fc.assert(fc.property(cfg, fc.array(fc.tuple(fc.integer({ min: 0, max: 1e6 }), value, fc.constantFrom('a', 'b')), { maxLength: 60 }), (c, input) => {
    const h = make(c);
    for (const [ts, v, p] of input) h.stage.push(rd(ts, v, p));
    for (const r of h.out) if (typeof r.value === 'number') assert.ok(Number.isFinite(r.value), `leaked ${r.value}`);
    // Everything that went in is either out (flagged ones too) or counted as dropped.
    const dropped = [...h.drops].filter(([k]) => !k.endsWith('.flagged')).reduce((n, [, c2]) => n + c2, 0);
    const flagged = [...h.drops].filter(([k]) => k.endsWith('.flagged')).reduce((n, [, c2]) => n + c2, 0);
    assert.equal(h.out.length + dropped, input.length);
    assert.equal(h.out.filter((r) => r.quality === 'bad').length, flagged);
  }), { numRuns: 300 });
});
