import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { uplinkSchema } from '../../../agent/uplink/schema.js';
import { SparkplugProfile } from '../../../agent/uplink/sparkplug/profile.js';
import { DataType, encodePayload } from '../../../agent/uplink/sparkplug/payload.js';
import { fits } from '../../../agent/uplink/sparkplug/metrics.js';
import { BatchEncoder } from '../../../agent/outbox/encode.js';
import type { DeviceInfo } from '../../../core/points.js';
import { silentLogger } from '../../../core/log.js';
import { requireTool } from '../../helpers/system.js';
import { protocDecode, bdSeqOf } from '../../helpers/sparkplug.js';
import { descriptorSource } from '../../../scripts/proto.js';

const haveProtoc = requireTool('protoc', 'protobuf-compiler');

function setup(devices: DeviceInfo[], opts: { primaryHost?: string; dataDir?: string } = {}) {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'spb-'));
  const cfg = uplinkSchema.parse({ mqtt: { url: 'mqtt://127.0.0.1:1883', qos: 0 }, profile: 'sparkplug-b', sparkplug: { groupId: 'plant-1', primaryHost: opts.primaryHost } });
  const last = new Map<string, { value: number | boolean | string; ts: number }>();
  const profile = new SparkplugProfile(cfg, 'node-7', { dataDir, devices: () => devices, lastValue: (s, p) => last.get(`${s}/${p}`) }, silentLogger);
  const sent: { topic: string; payload: Buffer; qos: number }[] = [];
  const restarts: string[] = [];
  const client = { subscribe: () => undefined } as unknown as MqttClient;
  const link = { publish: (topic: string, payload: Buffer, qos: 0 | 1) => void sent.push({ topic, payload, qos }), kick: () => undefined, restartSession: (r: string) => void restarts.push(r) };
  const enc = new BatchEncoder('node-7');
  let seq = 0;
  const batch = (readings: { source: string; point: string; value: number | boolean | string; ts?: number; quality?: 'bad' }[]) => {
    const frags = readings.map((r) => enc.reading({ ts: Date.now(), ...r }));
    return { seq: ++seq, n: readings.length, payload: Buffer.from(enc.batch('strm0001', seq, Date.now(), frags)) };
  };
  return { profile, sent, restarts, connect: () => profile.onConnect(client, link), last, batch, dataDir };
}

test('the generated descriptor matches the vendored .proto (npm run proto)', () => {
  const file = fs.readFileSync(new URL('../../../agent/uplink/sparkplug/descriptor.ts', import.meta.url), 'utf8');
  assert.equal(file, descriptorSource(), 'descriptor.ts is stale: run npm run proto');
});

test('datatype fit: integer ranges, float, bool, string', () => {
  assert.ok(fits(DataType.Int16, -32768) && !fits(DataType.Int16, 32768) && !fits(DataType.Int16, 1.5));
  assert.ok(fits(DataType.UInt16, 65535) && !fits(DataType.UInt16, -1));
  assert.ok(fits(DataType.Float, 1.5) && fits(DataType.Double, -1e300));
  assert.ok(fits(DataType.Boolean, true) && !fits(DataType.Boolean, 1));
  assert.ok(fits(DataType.String, 'x') && !fits(DataType.String, 1));
  assert.ok(!fits(DataType.UInt64, 2 ** 60), 'beyond 2^53 a JS number is not exact');
});

test('NBIRTH, DBIRTH, DDATA decode with protoc: bdSeq, aliases, datatypes, two\'s complement Int16, quality', { skip: !haveProtoc }, () => {
  const devices: DeviceInfo[] = [
    { id: 'plc', up: true, points: [{ name: 'i16', type: 'int16' }, { name: 'f', type: 'float32' }, { name: 'on', type: 'bool' }, { name: 'txt', type: 'string' }] },
    { id: 'gen', up: true, points: [{ name: 'wave' }] },
  ];
  const s = setup(devices);
  s.last.set('plc/i16', { value: -2, ts: 1000 });
  const will = s.profile.will();
  assert.equal(will.topic, 'spBv1.0/plant-1/NDEATH/node-7');
  assert.equal(will.qos, 1);
  assert.equal(will.retain, false);
  const bd = bdSeqOf(protocDecode(will.payload));
  assert.equal(bd, 0, 'first bdSeq is 0');
  s.connect();
  assert.deepEqual(s.sent.map((m) => m.topic), ['spBv1.0/plant-1/NBIRTH/node-7', 'spBv1.0/plant-1/DBIRTH/node-7/plc', 'spBv1.0/plant-1/DBIRTH/node-7/gen']);
  const nbirth = protocDecode(s.sent[0].payload);
  assert.equal(nbirth.seq, 0);
  assert.equal(bdSeqOf(nbirth), bd, 'NBIRTH carries the will\'s bdSeq');
  const rebirth = nbirth.metrics.find((m) => m.name === 'Node Control/Rebirth');
  assert.equal(rebirth?.datatype, DataType.Boolean);
  assert.equal(rebirth?.boolean_value, false);
  const plc = protocDecode(s.sent[1].payload);
  assert.equal(plc.seq, 1);
  const byName = new Map(plc.metrics.map((m) => [m.name!, m]));
  assert.deepEqual([...byName.keys()], ['i16', 'f', 'on', 'txt']);
  assert.equal(byName.get('i16')!.datatype, DataType.Int16);
  assert.equal(byName.get('i16')!.int_value, 2 ** 32 - 2, 'Int16 -2 travels as uint32 two\'s complement');
  assert.equal(byName.get('f')!.datatype, DataType.Float);
  assert.equal(byName.get('f')!.is_null, true, 'no value seen yet: is_null');
  assert.equal(byName.get('on')!.datatype, DataType.Boolean);
  assert.equal(byName.get('txt')!.datatype, DataType.String);
  const aliases = plc.metrics.map((m) => m.alias);
  assert.equal(new Set(aliases).size, aliases.length, 'aliases unique');

  const msgs = s.profile.encode(s.batch([
    { source: 'plc', point: 'i16', value: -12345 }, { source: 'plc', point: 'f', value: 1.5, quality: 'bad' },
    { source: 'gen', point: 'wave', value: 3.25 }, { source: 'plc', point: 'on', value: true },
  ]));
  assert.deepEqual(msgs.map((m) => m.topic), ['spBv1.0/plant-1/DDATA/node-7/plc', 'spBv1.0/plant-1/DDATA/node-7/gen'], 'one DDATA per device');
  const dd = protocDecode(msgs[0].payload);
  assert.equal(dd.seq, 3);
  assert.equal(protocDecode(msgs[1].payload).seq, 4);
  for (const m of dd.metrics) assert.equal(m.name, undefined, 'DDATA by alias only');
  assert.deepEqual(dd.metrics.map((m) => m.alias), [byName.get('i16')!.alias, byName.get('f')!.alias, byName.get('on')!.alias]);
  assert.equal(dd.metrics[0].int_value, (-12345) >>> 0);
  assert.equal(dd.metrics[1].float_value, 1.5);
  assert.deepEqual(dd.metrics[1].properties, { keys: ['Quality'], values: [{ type: DataType.Int32, int_value: 0 }] });
  assert.equal(dd.metrics[2].boolean_value, true);
});

test('an unknown point or a value its datatype cannot carry rebirths the device first', { skip: !haveProtoc }, () => {
  const s = setup([{ id: 'plc', up: true, points: [{ name: 'i16', type: 'int16' }] }]);
  s.profile.will();
  s.connect();
  const msgs = s.profile.encode(s.batch([{ source: 'plc', point: 'i16', value: 1.5 }, { source: 'plc', point: 'avg.mean', value: 2 }]));
  assert.deepEqual(msgs.map((m) => m.topic.split('/')[2]), ['DBIRTH', 'DDATA']);
  const birth = protocDecode(msgs[0].payload);
  const types = Object.fromEntries(birth.metrics.map((m) => [m.name, m.datatype]));
  assert.deepEqual(types, { i16: DataType.Double, 'avg.mean': DataType.Double }, 'retyped to Double; aggregate outputs are Double');
  const data = protocDecode(msgs[1].payload);
  assert.deepEqual(data.metrics.map((m) => m.double_value), [1.5, 2]);
  assert.equal(s.profile.counters.retyped, 1);
});

test('seq runs 0..255 over every message after NBIRTH and wraps', { skip: !haveProtoc }, () => {
  const s = setup([{ id: 'gen', up: true, points: [{ name: 'x' }] }]);
  s.profile.will();
  s.connect();
  const seqs: Buffer[] = s.sent.map((m) => m.payload);
  for (let i = 0; i < 300; i++) seqs.push(...s.profile.encode(s.batch([{ source: 'gen', point: 'x', value: i }])).map((m) => m.payload));
  // protoc on the messages around the wrap (and the ends): NBIRTH 0, DBIRTH 1, DDATA 2.., 255, 0, 1, ...
  for (const i of [0, 1, 2, 254, 255, 256, 257, 301]) assert.equal(protocDecode(seqs[i]).seq, i % 256, `message ${i}`);
});

test('bdSeq grows per connection and survives a restart (data dir)', () => {
  const a = setup([]);
  assert.deepEqual([a.profile.will(), a.profile.will(), a.profile.will()].map((w) => w.payload.length > 0), [true, true, true]);
  const b = setup([], { dataDir: a.dataDir });
  b.profile.will();
  assert.equal((b.profile.status() as { bdSeq: number }).bdSeq, 3);
  fs.writeFileSync(path.join(a.dataDir, 'sparkplug-bdseq'), '255\n');
  const c = setup([], { dataDir: a.dataDir });
  c.profile.will();
  assert.equal((c.profile.status() as { bdSeq: number }).bdSeq, 0, 'wraps after 255');
});

test('primary host: NBIRTH waits for STATE online; a stale STATE is ignored; offline ends the session', () => {
  const s = setup([{ id: 'gen', up: true, points: [] }], { primaryHost: 'scada-1' });
  s.profile.will();
  s.connect();
  assert.equal(s.sent.length, 0, 'nothing before the host is online');
  assert.equal(s.profile.ready(), false);
  const state = (online: boolean, timestamp: number) => s.profile.onMessage('spBv1.0/STATE/scada-1', Buffer.from(JSON.stringify({ online, timestamp })));
  assert.ok(state(false, 100));
  assert.equal(s.sent.length, 0);
  assert.ok(s.profile.onMessage('spBv1.0/STATE/scada-1', Buffer.from('ONLINE')), 'a 2.x payload is handled (ignored, counted)');
  assert.equal(s.profile.counters.badMessages, 1);
  state(true, 200);
  assert.equal(s.sent[0].topic, 'spBv1.0/plant-1/NBIRTH/node-7');
  assert.equal(s.profile.ready(), true);
  state(false, 150);
  assert.equal(s.restarts.length, 0, 'an older STATE is stale');
  assert.equal(s.profile.counters.staleState, 1);
  state(false, 300);
  assert.deepEqual(s.restarts, ['primary host offline']);
  const bye = s.profile.farewell();
  assert.equal(bye?.topic, 'spBv1.0/plant-1/NDEATH/node-7');
});

test('readings acquired before NBIRTH go out as historical, later ones live', { skip: !haveProtoc }, () => {
  const s = setup([{ id: 'gen', up: true, points: [{ name: 'x' }] }]);
  s.profile.will();
  const before = Date.now() - 5000;
  s.connect();
  const msgs = s.profile.encode(s.batch([{ source: 'gen', point: 'x', value: 1, ts: before }, { source: 'gen', point: 'x', value: 2, ts: Date.now() + 1 }]));
  const d = protocDecode(msgs.at(-1)!.payload);
  assert.deepEqual(d.metrics.map((m) => m.is_historical ?? false), [true, false]);
});

test('NCMD Rebirth republishes NBIRTH (seq 0, same bdSeq) and DBIRTHs; DCMD writes are refused and counted', { skip: !haveProtoc }, () => {
  const s = setup([{ id: 'gen', up: true, points: [{ name: 'x' }] }]);
  s.profile.will();
  s.connect();
  s.sent.length = 0;
  s.profile.onMessage('spBv1.0/plant-1/NCMD/node-7', encodePayload({ timestamp: Date.now(), metrics: [{ name: 'Node Control/Rebirth', datatype: DataType.Boolean, boolean_value: true }] }));
  assert.deepEqual(s.sent.map((m) => m.topic.split('/')[2]), ['NBIRTH', 'DBIRTH']);
  assert.equal(protocDecode(s.sent[0].payload).seq, 0);
  assert.equal(bdSeqOf(protocDecode(s.sent[0].payload)), 0);
  s.profile.onMessage('spBv1.0/plant-1/DCMD/node-7/gen', encodePayload({ timestamp: Date.now(), metrics: [{ name: 'x', datatype: DataType.Double, double_value: 1 }] }));
  assert.equal(s.profile.counters.dcmdRejected, 1);
  s.profile.onMessage('spBv1.0/plant-1/NCMD/node-7', Buffer.from('not protobuf \xff\xff'));
  assert.equal(s.profile.counters.badMessages, 1, 'garbage NCMD counted, not fatal');
});

test('device down -> DDEATH, back -> DBIRTH, removed -> DDEATH', async () => {
  const devices: DeviceInfo[] = [{ id: 'a', up: true, points: [] }, { id: 'b', up: true, points: [] }];
  const s = setup(devices);
  s.profile.will();
  s.connect();
  s.sent.length = 0;
  const tick = async () => {
    await new Promise((r) => setTimeout(r, 260));
    s.profile.tick();
  };
  devices[0] = { ...devices[0], up: false };
  await tick();
  assert.deepEqual(s.sent.map((m) => m.topic), ['spBv1.0/plant-1/DDEATH/node-7/a']);
  devices[0] = { ...devices[0], up: true };
  devices.pop();
  await tick();
  assert.deepEqual(s.sent.slice(1).map((m) => m.topic), ['spBv1.0/plant-1/DBIRTH/node-7/a', 'spBv1.0/plant-1/DDEATH/node-7/b']);
});

test('config: sparkplug-b needs uplink.sparkplug; ids must be plain topic levels', async () => {
  const { parseConfigText } = await import('../../../agent/config/load.js');
  const base = (uplink: string) => `agent: { id: n1 }\nuplink:\n  mqtt: { url: "mqtt://h:1883" }\n${uplink}\nsources: []\n`;
  const missing = parseConfigText(base('  profile: sparkplug-b'));
  assert.ok(!missing.ok);
  assert.match(JSON.stringify(missing.errors), /uplink.*sparkplug.*required for profile sparkplug-b/);
  const bad = parseConfigText(base('  profile: sparkplug-b\n  sparkplug: { groupId: "a/b" }'));
  assert.ok(!bad.ok);
  assert.match(JSON.stringify(bad.errors), /groupId.*must not contain/);
  const ok = parseConfigText(base('  profile: sparkplug-b\n  sparkplug: { groupId: plant-1, primaryHost: scada-1 }'));
  assert.ok(ok.ok, JSON.stringify(!ok.ok && ok.errors));
  const dflt = parseConfigText(base(''));
  assert.ok(dflt.ok && dflt.config.uplink.profile === 'json', 'json by default');
});

test('a point added by a config change rebirths its device with the new metric', { skip: !haveProtoc }, async () => {
  const devices: DeviceInfo[] = [{ id: 'a', up: true, points: [{ name: 'x', type: 'int32' }] }];
  const s = setup(devices);
  s.profile.will();
  s.connect();
  s.sent.length = 0;
  devices[0] = { ...devices[0], points: [...devices[0].points, { name: 'y', type: 'bool' }] };
  await new Promise((r) => setTimeout(r, 260));
  s.profile.tick();
  assert.deepEqual(s.sent.map((m) => m.topic), ['spBv1.0/plant-1/DBIRTH/node-7/a']);
  assert.deepEqual(protocDecode(s.sent[0].payload).metrics.map((m) => [m.name, m.datatype]), [['x', DataType.Int32], ['y', DataType.Boolean]]);
});
