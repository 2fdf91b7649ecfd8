import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../agent/config/load.js';
import { Router } from '../../pipelines/router.js';
import type { Reading } from '../../core/reading.js';
import { FakeClock, stageHarness } from './helpers.js';

const T0 = Date.UTC(2026, 0, 1);

function config(pipelines: string) {
  const res = parseConfigText(`uplink: { mqtt: { url: "mqtt://127.0.0.1:1883" } }\npipelines:\n${pipelines}`);
  if (!res.ok) throw new Error(JSON.stringify(res.errors));
  return res.config;
}

/** The SPEC example's pipelines section, verbatim. */
const SPEC_PIPELINES = `
  - match: "boiler/*"
    stages:
      - filter: { min: -40, max: 150, deadband: 0.2 }
      - dedupe: { maxSilence: 60s }
      - aggregate: { window: 10s, functions: [min, max, mean, last, count] }
  - match: "*"
    stages: []
`;

test('router: the SPEC example pipelines run filter -> dedupe -> aggregate in order; other readings pass as they are', () => {
  const clock = new FakeClock(T0);
  const h = stageHarness(clock);
  const router = new Router(config(SPEC_PIPELINES).pipelines, h.sink, h.ctx);
  const input: [number, number][] = [[0, 20], [1000, 20.1], [2000, 20.5], [3000, 200], [4000, 20.5], [5000, 21], [6000, NaN], [11_000, 22]];
  for (const [dt, v] of input) router.push({ source: 'boiler', point: 'temperature', ts: T0 + dt, value: v });
  router.push({ source: 'meter', point: 'energy', ts: T0, value: 1234 });
  router.push({ source: 'meter', point: 'energy', ts: T0, value: Infinity }); // never leaves a pipeline, even stages: []
  router.flush();
  // filter: 20.1 and the second 20.5 (deadband), 200 (max), NaN dropped; window 0: 20, 20.5, 21.
  const out = h.out.map((r: Reading) => [r.source, r.point, r.ts - T0, r.value]);
  assert.deepEqual(out, [
    ['boiler', 'temperature.min', 0, 20], ['boiler', 'temperature.max', 0, 21], ['boiler', 'temperature.mean', 0, 20.5],
    ['boiler', 'temperature.last', 0, 21], ['boiler', 'temperature.count', 0, 3],
    ['meter', 'energy', 0, 1234],
    // flush emits aggregate's partial window
    ['boiler', 'temperature.min', 10_000, 22], ['boiler', 'temperature.max', 10_000, 22], ['boiler', 'temperature.mean', 10_000, 22],
    ['boiler', 'temperature.last', 10_000, 22], ['boiler', 'temperature.count', 10_000, 1],
  ]);
  assert.equal(h.drop('filter.deadband'), 2);
  assert.equal(h.drop('filter.max'), 1);
  assert.equal(h.drop('filter.non-finite'), 1);
  assert.equal(h.drop('non-finite'), 1);
});

test('router: with the SPEC example, a steady value is still sent once a minute (deadband yields to dedupe maxSilence)', () => {
  const clock = new FakeClock(T0);
  const h = stageHarness(clock);
  const router = new Router(config(SPEC_PIPELINES).pipelines, h.sink, h.ctx);
  for (let s = 0; s <= 185; s++) router.push({ source: 'boiler', point: 'temperature', ts: T0 + s * 1000, value: 20 });
  router.flush();
  const counts = h.out.filter((r) => r.point === 'temperature.count').map((r) => [r.ts - T0, r.value]);
  assert.deepEqual(counts, [[0, 1], [60_000, 1], [120_000, 1], [180_000, 1]]);
});

test('router: the first matching pipeline wins', () => {
  const h = stageHarness();
  const router = new Router(config(`
  - match: "boiler/temp?"
    stages: [ { filter: { max: 10 } } ]
  - match: "boiler/*"
    stages: [ { filter: { max: 100 } } ]
  - match: "*"
    stages: [ { filter: { max: 1000 } } ]
`).pipelines, h.sink, h.ctx);
  for (const [s, p] of [['boiler', 'temp1'], ['boiler', 'temp12'], ['other', 'temp1']]) router.push({ source: s, point: p, ts: 1, value: 50 });
  for (const [s, p] of [['boiler', 'temp1'], ['boiler', 'temp12'], ['other', 'temp1']]) router.push({ source: s, point: p, ts: 2, value: 500 });
  // boiler/temp1 -> max 10 (both dropped), boiler/temp12 -> max 100, other/temp1 -> max 1000.
  assert.deepEqual(h.out.map((r) => `${r.source}/${r.point}=${r.value}`), ['boiler/temp12=50', 'other/temp1=50', 'other/temp1=500']);
});

test('router: globs are compiled once and matched once per source/point, not per reading', () => {
  const h = stageHarness();
  const router = new Router(config(`
  - match: "a/*"
    stages: []
  - match: "b/*"
    stages: []
`).pipelines, h.sink, h.ctx);
  const orig = RegExp.prototype.test;
  let calls = 0;
  RegExp.prototype.test = function (this: RegExp, s: string) {
    calls++;
    return orig.call(this, s);
  };
  try {
    for (let i = 0; i < 1000; i++) {
      router.push({ source: 'b', point: 'x', ts: i, value: i });
      router.push({ source: 'c', point: 'y', ts: i, value: i });
    }
  } finally {
    RegExp.prototype.test = orig;
  }
  assert.equal(h.out.length, 2000);
  assert.equal(calls, 4, 'b/x tried against 2 globs, c/y against 2, once each');
});

test('router: tick reaches aggregate so windows close on time', () => {
  const clock = new FakeClock(T0);
  const h = stageHarness(clock);
  const router = new Router(config(`
  - match: "*"
    stages: [ { aggregate: { window: 1s, grace: 0, functions: [count] } } ]
`).pipelines, h.sink, h.ctx);
  router.push({ source: 's', point: 'p', ts: T0, value: 1 });
  clock.advance(1000);
  router.tick();
  assert.deepEqual(h.out.map((r) => [r.point, r.ts, r.value]), [['p.count', T0, 1]]);
});

test('config: a stage error names the key path and line:col', () => {
  const res = parseConfigText(`uplink: { mqtt: { url: "mqtt://127.0.0.1:1883" } }
pipelines:
  - match: "*"
    stages:
      - filter: { min: 5, max: 1 }
      - aggregate: { window: 10s, functions: [median] }
      - dedupe: { maxSilense: 1m }
`);
  assert.ok(!res.ok);
  const msgs = res.errors.map((e) => `${e.path}@${e.line}: ${e.message}`);
  assert.ok(msgs.some((m) => m.startsWith('pipelines[0].stages[0].filter.max@5')), msgs.join('\n'));
  assert.ok(msgs.some((m) => m.startsWith('pipelines[0].stages[1].aggregate.functions[0]@6')), msgs.join('\n'));
  assert.ok(msgs.some((m) => m.includes('maxSilense') && m.includes('@7')), msgs.join('\n'));
});

test('router: the route cache is bounded; uncached points still route correctly', () => {
  const h = stageHarness();
  const router = new Router(config(`
  - match: "s/keep*"
    stages: [ { filter: { max: 10 } } ]
`).pipelines, h.sink, h.ctx);
  for (let i = 0; i < 60_000; i++) router.push({ source: 's', point: `keep${i}`, ts: 1, value: i % 20 });
  const routes = (router as unknown as { routes: number }).routes;
  assert.equal(routes, 50_000);
  assert.equal(h.out.length, 33_000, 'values 11..19 dropped by the filter for every point, cached or not');
});
