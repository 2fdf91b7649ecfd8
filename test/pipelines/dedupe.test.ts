import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DedupeStage, dedupeSchema } from '../../pipelines/dedupe.js';
import { FakeClock, rd, stageHarness, tv } from './helpers.js';

function make(cfg: Record<string, unknown>, clock = new FakeClock()) {
  const h = stageHarness(clock);
  const stage = new DedupeStage(dedupeSchema.parse(cfg), h.sink, h.ctx);
  return { ...h, stage, clock };
}

test('dedupe: drops repeats of the last passed value until maxSilence has passed (heartbeat)', () => {
  const h = make({ maxSilence: '60s' });
  const input: [number, number][] = [[0, 1], [1000, 1], [2000, 2], [30_000, 2], [61_999, 2], [62_000, 2], [63_000, 1], [64_000, 1]];
  for (const [ts, v] of input) h.stage.push(rd(ts, v));
  assert.deepEqual(tv(h.out), [[0, 1], [2000, 2], [62_000, 2], [63_000, 1]]);
  assert.equal(h.drop('dedupe.repeat'), 4);
});

test('dedupe: exact repeat (same ts and value) always dropped, even with maxSilence 0', () => {
  const h = make({ maxSilence: 0 });
  for (const [ts, v] of [[5, 1], [5, 1], [6, 1], [6, 'a'], [6, 'a']] as [number, number][]) h.stage.push(rd(ts, v));
  assert.deepEqual(tv(h.out), [[5, 1], [6, 1], [6, 'a']]);
  assert.equal(h.drop('dedupe.exact'), 2);
});

test('dedupe: without maxSilence repeats are dropped for good; strings and booleans compare by value', () => {
  const h = make({});
  for (const [ts, v] of [[1, true], [2, true], [3, false], [4, 'on'], [5, 'on'], [1e9, 'on']] as [number, boolean | string][]) h.stage.push(rd(ts, v));
  assert.deepEqual(tv(h.out), [[1, true], [3, false], [4, 'on']]);
});

test('dedupe: tolerance compares against the last passed value, so slow drift still passes', () => {
  const h = make({ tolerance: 0.5 });
  for (const [ts, v] of [[1, 10], [2, 10.3], [3, 10.5], [4, 10.6], [5, 10.9], [6, 11.2]]) h.stage.push(rd(ts, v));
  assert.deepEqual(tv(h.out), [[1, 10], [4, 10.6], [6, 11.2]]);
});

test('dedupe: a change of quality is not a repeat; good equals omitted', () => {
  const h = make({});
  h.stage.push(rd(1, 5));
  h.stage.push({ ...rd(2, 5), quality: 'good' });
  h.stage.push({ ...rd(3, 5), quality: 'bad' });
  h.stage.push({ ...rd(4, 5), quality: 'bad' });
  h.stage.push(rd(5, 5));
  assert.deepEqual(h.out.map((r) => r.ts), [1, 3, 5]);
});

test('dedupe: a backwards wall-clock step never mutes a point', () => {
  const h = make({ maxSilence: '10s' });
  h.stage.push(rd(1_000_000, 7));
  h.stage.push(rd(500_000, 7)); // clock stepped back 500 s: passes, becomes the reference
  h.stage.push(rd(505_000, 7));
  h.stage.push(rd(511_000, 7));
  assert.deepEqual(tv(h.out), [[1_000_000, 7], [500_000, 7], [511_000, 7]]);
});

test('dedupe: per source/point; idle state is evicted only after maxSilence (no change in output)', () => {
  const h = make({ maxSilence: '5m' });
  h.stage.push(rd(0, 1, 'a'));
  h.stage.push(rd(0, 1, 'b'));
  h.stage.push(rd(0, 1, 'a', 'other'));
  assert.equal(h.out.length, 3);
  assert.equal(h.stage.state.size, 3);
  for (let k = 0; k < 3; k++) {
    h.clock.advance(60_000);
    h.stage.tick();
  }
  assert.equal(h.stage.state.size, 3, 'not evicted before maxSilence');
  for (let k = 0; k < 5; k++) {
    h.clock.advance(60_000);
    h.stage.tick();
  }
  assert.equal(h.stage.state.size, 0, 'evicted once idle past maxSilence');
});

test('dedupe: config errors', () => {
  assert.ok(!dedupeSchema.safeParse({ maxSilence: 'soon' }).success);
  assert.ok(!dedupeSchema.safeParse({ tolerance: -1 }).success);
  assert.ok(!dedupeSchema.safeParse({ maxsilence: '1s' }).success);
  assert.equal(dedupeSchema.parse({ maxSilence: '1m' }).maxSilence, 60_000);
});

/** Input that flows: per point, non-decreasing timestamps with gaps 0..gapMax ms, few distinct values. */
const flowing = (gapMax: number) =>
  fc.array(fc.tuple(fc.integer({ min: 0, max: gapMax }), fc.constantFrom(0, 1, 2, 2.25), fc.constantFrom('a', 'b')), { minLength: 1, maxLength: 200 });

function stamp(input: [number, number, string][]) {
  const t: Record<string, number> = { a: 1e6, b: 1e6 };
  return input.map(([gap, v, p]) => rd((t[p] += gap), v, p));
}

test('property: dedupe never emits two equal consecutive values within maxSilence', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 5000 }), fc.option(fc.constantFrom(0.1, 0.3), { nil: undefined }), flowing(2000), (maxSilence, tolerance, input) => {
    const h = make({ maxSilence, tolerance });
    for (const r of stamp(input)) h.stage.push(r);
    for (const p of ['a', 'b']) {
      const out = h.out.filter((r) => r.point === p);
      for (let i = 1; i < out.length; i++) {
        const same = Math.abs((out[i].value as number) - (out[i - 1].value as number)) <= (tolerance ?? 0);
        if (same) assert.ok(out[i].ts - out[i - 1].ts >= maxSilence, `${p}: ${JSON.stringify(out[i - 1])} then ${JSON.stringify(out[i])}`);
      }
    }
  }), { numRuns: 300 });
});

test('property: dedupe never stays silent longer than maxSilence while input flows', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 5000 }), flowing(3000), (maxSilence, input) => {
    const h = make({ maxSilence });
    const lastOut: Record<string, number> = {};
    for (const r of stamp(input)) {
      const n = h.out.length;
      h.stage.push(r);
      if (h.out.length > n) lastOut[r.point] = r.ts;
      // After each reading, the point's last emission is less than maxSilence before it.
      assert.ok(r.ts - lastOut[r.point] < maxSilence || r.ts === lastOut[r.point], `${r.point} silent from ${lastOut[r.point]} to ${r.ts}`);
    }
  }), { numRuns: 300 });
});
