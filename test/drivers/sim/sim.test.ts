import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simDriver, simSchema } from '../../../drivers/sim/index.js';
import { captureContext, waitFor } from '../../helpers/source-context.js';

test('sim: every wave stays in its range, counter counts, constant holds', async () => {
  const cfg = simSchema.parse({
    id: 'demo', driver: 'sim', pollInterval: '20ms',
    points: [
      { name: 'wave', wave: 'sine', period: '1s', min: 10, max: 20 },
      { name: 'walk', wave: 'walk', min: 0, max: 1 },
      { name: 'count', wave: 'counter', step: 2 },
      { name: 'mode', wave: 'constant', value: 'auto' },
    ],
  });
  const cap = captureContext({ sourceId: 'demo' });
  const d = simDriver.create(cfg, cap.ctx);
  await d.open();
  try {
    await waitFor(() => cap.readings.filter((r) => r.point === 'count').length >= 5, 5000, 'five polls');
  } finally {
    await d.close();
  }
  const of = (p: string) => cap.readings.filter((r) => r.point === p).map((r) => r.value);
  assert.ok(of('wave').every((v) => typeof v === 'number' && v >= 10 && v <= 20));
  assert.ok(of('walk').every((v) => typeof v === 'number' && v >= 0 && v <= 1));
  assert.deepEqual(of('count').slice(0, 3), [0, 2, 4]);
  assert.ok(of('mode').every((v) => v === 'auto'));
  assert.equal(cap.states.at(-1)?.state, 'ok');
  assert.deepEqual(simDriver.pointNames!(cfg), ['wave', 'walk', 'count', 'mode']);
});

test('sim: a constant without value and max < min are config errors naming the point', () => {
  const r = simSchema.safeParse({ id: 'x', driver: 'sim', points: [{ name: 'c', wave: 'constant' }, { name: 'r', wave: 'sine', min: 5, max: 1 }] });
  assert.equal(r.success, false);
  assert.deepEqual(r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`), ['points.0.value: required for wave: constant', 'points.1.max: must be >= min']);
});
