import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineRecorder, type MonitorEvent } from '../../../drivers/serial/monitor.js';

test('LineRecorder: one record per line with its points and error; a lone error stands alone', async () => {
  const out: MonitorEvent[] = [];
  const r = new LineRecorder((e) => out.push(e));
  r.error('overlong', 'line of 1025+ bytes'); // no line being parsed
  r.line(Buffer.from('T=21.5 H=40'));
  r.point('T', 21.5);
  r.point('H', 40);
  r.line(Buffer.from('A=1 =2')); // the next line closes the previous record at once
  r.point('A', 1);
  r.error('parse', 'bad pair "=2"');
  assert.equal(out.length, 2, 'the second record waits for its parse to finish');
  await Promise.resolve();
  assert.deepEqual(out, [
    { error: { kind: 'overlong', message: 'line of 1025+ bytes' } },
    { raw: 'T=21.5 H=40', points: { T: 21.5, H: 40 } },
    { raw: 'A=1 =2', points: { A: 1 }, error: { kind: 'parse', message: 'bad pair "=2"' } },
  ]);
  r.flush();
  assert.equal(out.length, 3, 'nothing sent twice');
});
