import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../../helpers/daemon.js';
import { silentLogger } from '../../../core/log.js';
import { WriteFailed } from '../../../drivers/types.js';
import { checkEnvelope, signCommand } from '../../../agent/control/commands/envelope.js';
import { ReplayStore } from '../../../agent/control/commands/replay.js';
import { CommandExecutor } from '../../../agent/control/commands/executor.js';
import type { SourceRunner } from '../../../agent/runtime/source-runner.js';

function keys() {
  const dir = tempDir();
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  const pub = path.join(dir, 'cmd.pub');
  fs.writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }));
  return { pub, pem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

test('envelope: freshness window is maxAge back and 5 s ahead, on the board\'s clock; shape errors name the field', () => {
  const k = keys();
  const now = 1_800_000_000_000;
  const make = (ts: number, extra: Record<string, unknown> = {}) => {
    const c = { id: 'a', source: 's', point: 'p', value: 1, ts };
    return Buffer.from(JSON.stringify({ ...c, signature: signCommand(c, k.pem), ...extra }));
  };
  const chk = (b: Buffer, retained = false) => checkEnvelope(b, retained, { publicKey: k.pub, maxAgeMs: 30_000, now });
  assert.equal(chk(make(now - 30_000)).ok, true, 'exactly maxAge old: accepted');
  const old = chk(make(now - 30_001));
  assert.equal(old.ok === false && old.rule, 'stale');
  assert.equal(chk(make(now + 5000)).ok, true);
  const ahead = chk(make(now + 5001));
  assert.equal(ahead.ok === false && ahead.rule, 'future');
  const ret = chk(make(now), true);
  assert.equal(ret.ok === false && ret.rule, 'retained');
  const extra = chk(make(now, { priority: 'high' }));
  assert.equal(extra.ok === false && extra.error, 'malformed: unknown key priority (not signed, so not accepted)');
  const noId = checkEnvelope(Buffer.from('{"source":"s","point":"p","value":1,"ts":1}'), false, { publicKey: k.pub, maxAgeMs: 30_000, now });
  assert.equal(noId.ok === false && noId.error, 'malformed: id: expected a string of 1..128 characters, got undefined');
  const notJson = checkEnvelope(Buffer.from('{'), false, { publicKey: k.pub, maxAgeMs: 30_000, now });
  assert.equal(notJson.ok === false && notJson.id, null);
  const str = checkEnvelope(Buffer.from(JSON.stringify({ id: 'x', source: 's', point: 'p', value: '21.5', ts: now })), false, { publicKey: k.pub, maxAgeMs: 30_000, now });
  assert.equal(str.ok === false && str.rule, 'type');
});

test('replay store: ids persist atomically, survive a new instance, expire after maxAge + 5 s; a lost file refuses older commands', async () => {
  const dir = tempDir();
  const now = 1_800_000_000_000;
  const a = new ReplayStore(dir, 30_000);
  a.load(now);
  await a.record('one', now - 1000, now);
  await a.record('two', now, now);
  const b = new ReplayStore(dir, 30_000);
  b.load(now + 10_000);
  assert.equal(b.has('one'), true);
  assert.equal(b.has('two'), true);
  const c = new ReplayStore(dir, 30_000);
  c.load(now + 35_001);
  assert.equal(c.has('one') || c.has('two'), false, 'kept until now + maxAge + 5 s, then gone');
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temp file left');
  fs.writeFileSync(path.join(dir, 'command-ids.json'), '{"ids": tru');
  const d = new ReplayStore(dir, 30_000);
  d.load(now);
  assert.match(d.loadError!, /command-ids\.json: unreadable/);
  assert.equal(d.notBefore, now);
});

function fakeRunner(id: string, points: Record<string, ReturnType<SourceRunner['writable']> | null>, write: (p: string, v: unknown) => Promise<unknown>) {
  return {
    id,
    pointNames: () => Object.keys(points),
    writable: (p: string) => points[p] ?? undefined,
    write,
  } as unknown as SourceRunner;
}

test('executor: rules in order, the device error on failure, counts and the last commands', async () => {
  const writes: [string, unknown][] = [];
  const r = fakeRunner('plc', { sp: { type: 'number', min: 5, max: 80 }, count: { type: 'number', min: 0, max: 10, integer: true }, ro: null }, async (p, v) => {
    if (p === 'count' && v === 9) throw new WriteFailed('unit 1 holding 7 (FC 6) on 10.0.0.5:502: slave device busy (exception 6)');
    writes.push([p, v]);
    return v;
  });
  const ex = new CommandExecutor(() => [r], silentLogger, () => 42);
  assert.deepEqual(await ex.execute({ id: '1', source: 'plc', point: 'sp', value: 21.5 }, 'mqtt'), { id: '1', status: 'done', value: 21.5, at: 42 });
  const rule = async (point: string, value: unknown) => (await ex.execute({ id: 'x', source: 'plc', point, value }, 'sparkplug')).rule;
  assert.equal(await rule('nope', 1), 'unknown-point');
  assert.equal(await rule('ro', 1), 'not-writable');
  assert.equal(await rule('count', 2.5), 'type');
  assert.equal(await rule('sp', 80.01), 'range');
  assert.equal((await ex.execute({ id: 'x', source: 'other', point: 'sp', value: 6 }, 'mqtt')).rule, 'unknown-source');
  const failed = await ex.execute({ id: 'f', source: 'plc', point: 'count', value: 9 }, 'mqtt');
  assert.deepEqual(failed, { id: 'f', status: 'failed', error: 'unit 1 holding 7 (FC 6) on 10.0.0.5:502: slave device busy (exception 6)', at: 42 });
  assert.deepEqual(writes, [['sp', 21.5]], 'nothing rejected reached the device');
  const st = ex.status();
  assert.deepEqual([st.done, st.rejected, st.failed], [1, 5, 1]);
  assert.equal(st.rejectedBy.range, 1);
  assert.equal(st.recent[0].id, 'f');
  assert.equal(st.recent.at(-1)!.origin, 'mqtt');
  for (let i = 0; i < 30; i++) await ex.execute({ id: `n${i}`, source: 'plc', point: 'sp', value: 6 }, 'mqtt');
  assert.equal(ex.status().recent.length, 20, 'the last 20 are kept');
});
