import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker } from '../helpers/broker.js';
import { startDaemon, tempDir, writeConfig } from '../helpers/daemon.js';
import { freePort, requireTool, sleep } from '../helpers/system.js';
import { waitFor } from '../helpers/source-context.js';
import { cli, publishOnce } from '../helpers/control.js';
import { bdSeqOf, protocEncode, sparkplugHost, type DecodedMetric } from '../helpers/sparkplug.js';
import { havePymodbus, startSlave, type Slave } from '../drivers/modbus/slave.js';

/**
 * The built daemon as a Sparkplug B edge node against mosquitto, every payload decoded by protoc
 * from the vendored .proto (not by the daemon's encoder).
 */
const haveProtoc = requireTool('protoc', 'protobuf-compiler');
const TYPE_FIELD: Record<number, keyof DecodedMetric> = { 2: 'int_value', 9: 'float_value', 10: 'double_value', 11: 'boolean_value', 12: 'string_value', 4: 'long_value', 6: 'int_value' };

test('a host sees NBIRTH, DBIRTH, DDATA, DDEATH, rebirth; aliases hold; seq wraps; SIGKILL -> NDEATH with the NBIRTH\'s bdSeq', { skip: !haveProtoc, timeout: 120_000 }, async (t) => {
  const broker = await startBroker();
  t.after(() => broker.stop());
  const modbus = havePymodbus();
  let slave: Slave | undefined;
  const mbPort = await freePort();
  if (modbus) slave = await startSlave({ tcp: mbPort });
  t.after(() => slave?.stop());
  const dir = tempDir();
  const cfg = writeConfig(dir, `
agent: { id: node-7, dataDir: ${dir}/data }
uplink:
  mqtt: { url: "${broker.url}", qos: 0, reconnectMin: 100ms, reconnectMax: 300ms }
  batch: { maxReadings: 1, maxDelay: 50ms }
  profile: sparkplug-b
  sparkplug: { groupId: plant-1 }
buffer: { flushInterval: 100ms }
sources:
  - id: gen
    driver: sim
    pollInterval: 10ms
    points: [{ name: n, wave: counter }]
${modbus ? `  - id: plc
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${mbPort}
    pollInterval: 200ms
    timeout: 200ms
    points:
      - { name: i16, table: holding, address: 0, type: int16 }
      - { name: f32, table: holding, address: 18, type: float32 }
      - { name: coil0, table: coil, address: 0 }
      - { name: str, table: holding, address: 74, type: string, count: 6 }` : ''}
control: { socket: ${dir}/agent.sock }
`);
  const host = await sparkplugHost(broker.url, 'plant-1');
  t.after(() => host.close());
  const d = startDaemon(['run', '--config', cfg]);
  t.after(() => d.stop('SIGKILL'));
  const of = (type: string, device?: string) => host.messages.filter((m) => m.type === type && (device === undefined || m.device === device));

  await waitFor(() => of('DBIRTH', 'gen').length >= 1 && (!modbus || of('DDATA', 'plc').length >= 2), 20_000, 'births and plc data');
  if (modbus) {
    // The PLC goes away: its source goes down -> DDEATH; back -> DBIRTH.
    await slave!.stop();
    await waitFor(() => of('DDEATH', 'plc').length >= 1, 20_000, 'DDEATH plc');
    slave = await startSlave({ tcp: mbPort });
    await waitFor(() => of('DBIRTH', 'plc').length >= 2, 20_000, 'DBIRTH plc again');
  }
  const st = await cli(['status', '--json', '--socket', `${dir}/agent.sock`]);
  const status = JSON.parse(st.stdout) as { uplink: { profile: string; bdSeq: number; seq: number; born: boolean } };
  assert.equal(status.uplink.profile, 'sparkplug-b');
  assert.equal(status.uplink.born, true);
  assert.ok(status.uplink.seq >= 0 && status.uplink.seq <= 255);

  // NCMD rebirth (encoded by protoc, as a host would send it).
  const births = of('NBIRTH').length;
  await publishOnce(broker.url, 'spBv1.0/plant-1/NCMD/node-7', protocEncode('timestamp: 1\nmetrics { name: "Node Control/Rebirth" datatype: 11 boolean_value: true }'));
  await waitFor(() => of('NBIRTH').length > births, 10_000, 'NBIRTH after NCMD Rebirth');
  await publishOnce(broker.url, 'spBv1.0/plant-1/DCMD/node-7/gen', protocEncode('timestamp: 1\nmetrics { name: "n" datatype: 10 double_value: 5 }'));
  await d.waitLog((l) => l.msg === 'sparkplug DCMD write rejected: uplink.sparkplug.writes is off' && l.device === 'gen');

  // Enough messages for seq to wrap at least once after the last NBIRTH.
  const afterBirth = () => host.messages.length - (of('NBIRTH').at(-1)?.i ?? 0);
  await waitFor(() => afterBirth() > 300, 30_000, '300 messages after the last NBIRTH');
  d.proc.kill('SIGKILL');
  await waitFor(() => of('NDEATH').length >= 1, 10_000, 'NDEATH (the will) after SIGKILL');

  // Topics and decoding: every message decodes with protoc.
  const fromNode = host.messages.filter((m) => m.type !== 'NCMD' && m.type !== 'DCMD');
  for (const m of fromNode) {
    assert.match(m.topic, /^spBv1\.0\/plant-1\/(NBIRTH|NDEATH)\/node-7$|^spBv1\.0\/plant-1\/(DBIRTH|DDATA|DDEATH)\/node-7\/(gen|plc)$/, m.topic);
    host.decode(m);
  }
  const nbirths = of('NBIRTH').map((m) => host.decode(m));
  const ndeath = host.decode(of('NDEATH')[0]);
  assert.equal(bdSeqOf(ndeath), bdSeqOf(nbirths.at(-1)!), 'the will carries the bdSeq of the last NBIRTH');
  assert.equal(bdSeqOf(nbirths.at(-1)!), bdSeqOf(nbirths[0]), 'a rebirth keeps the connection\'s bdSeq');
  assert.equal(ndeath.seq, undefined, 'NDEATH has no seq');

  // seq: 0 at each NBIRTH, +1 (mod 256) for every later message of the node; wrapped at least once.
  let expect = -1;
  let wraps = 0;
  const aliases = new Map<string, Map<number, number>>(); // device -> alias -> datatype (from its last DBIRTH)
  const allAliases = new Map<number, string>();
  for (const m of fromNode) {
    const p = host.decode(m);
    if (m.type === 'NDEATH') continue;
    if (m.type === 'NBIRTH') expect = 0;
    assert.equal(p.seq, expect, `seq of message ${m.i} (${m.topic})`);
    if (expect === 255) wraps++;
    expect = (expect + 1) % 256;
    if (m.type === 'DBIRTH') {
      const table = new Map<number, number>();
      for (const x of p.metrics) {
        assert.ok(x.name && x.alias !== undefined && x.datatype !== undefined, 'DBIRTH metrics carry name, alias, datatype');
        table.set(x.alias!, x.datatype!);
        const owner = allAliases.get(x.alias!);
        assert.ok(owner === undefined || owner === `${m.device}/${x.name}`, `alias ${x.alias} unique over the node`);
        allAliases.set(x.alias!, `${m.device}/${x.name}`);
      }
      aliases.set(m.device!, table);
    }
    if (m.type === 'DDATA') {
      const table = aliases.get(m.device!);
      assert.ok(table, `DDATA for ${m.device} after its DBIRTH`);
      for (const x of p.metrics) {
        assert.equal(x.name, undefined);
        const dt = table.get(x.alias!);
        assert.ok(dt !== undefined, `alias ${x.alias} was born`);
        assert.ok(x[TYPE_FIELD[dt]] !== undefined, `value in ${TYPE_FIELD[dt]} for datatype ${dt}`);
      }
    }
  }
  assert.ok(wraps >= 1, 'seq wrapped from 255 to 0');
  const counts: Record<string, number> = {};
  for (const m of fromNode) counts[m.type] = (counts[m.type] ?? 0) + 1;
  t.diagnostic(`modbus ${modbus}; messages ${JSON.stringify(counts)}; seq wraps ${wraps}`);
  if (modbus) {
    const dbirth = host.decode(of('DBIRTH', 'plc').at(-1)!);
    const types = Object.fromEntries(dbirth.metrics.map((x) => [x.name, x.datatype]));
    assert.deepEqual(types, { i16: 2, f32: 9, coil0: 11, str: 12 }, 'Int16, Float, Boolean, String from the point types');
    const i16 = dbirth.metrics.find((x) => x.name === 'i16')!;
    assert.equal(i16.int_value, -12345 >>> 0, 'current value in DBIRTH (two\'s complement)');
  }
  const n = host.decode(of('DBIRTH', 'gen')[0]).metrics.find((x) => x.name === 'n')!;
  assert.equal(n.datatype, 10, 'sim points are Double');
});

test('primary host offline 20 s: data held, then sent historical oldest first, then live; nothing lost', { skip: !haveProtoc, timeout: 120_000 }, async (t) => {
  const broker = await startBroker();
  t.after(() => broker.stop());
  const dir = tempDir();
  const state = (online: boolean) => publishOnce(broker.url, 'spBv1.0/STATE/scada-1', JSON.stringify({ online, timestamp: Date.now() }), true);
  await state(true);
  const cfg = writeConfig(dir, `
agent: { id: node-8, dataDir: ${dir}/data }
uplink:
  mqtt: { url: "${broker.url}", qos: 1, reconnectMin: 100ms, reconnectMax: 300ms }
  batch: { maxReadings: 100, maxDelay: 200ms }
  profile: sparkplug-b
  sparkplug: { groupId: plant-2, primaryHost: scada-1 }
buffer: { flushInterval: 400ms }
sources:
  - { id: gen, driver: sim, pollInterval: 50ms, points: [{ name: n, wave: counter }] }
`);
  const host = await sparkplugHost(broker.url, 'plant-2');
  t.after(() => host.close());
  const d = startDaemon(['run', '--config', cfg]);
  t.after(() => d.stop('SIGKILL'));
  const of = (type: string) => host.messages.filter((m) => m.type === type);
  await waitFor(() => of('DDATA').length >= 3, 15_000, 'live DDATA');
  await state(false);
  await waitFor(() => of('NDEATH').length >= 1, 10_000, 'NDEATH when the host goes offline');
  const offlineAt = host.messages.length;
  await sleep(20_000);
  assert.equal(host.messages.length, offlineAt, 'nothing published while the primary host is offline');
  await state(true);
  await waitFor(() => of('NBIRTH').length >= 2, 10_000, 'NBIRTH once the host is back');
  await sleep(3000);
  assert.equal(await d.stop(), 0);
  // The stop's NDEATH was acknowledged by the broker; the host may get it a moment later.
  await waitFor(() => of('NDEATH').length >= 2, 5000, 'NDEATH of the clean stop');

  const nb = of('NBIRTH').map((m) => host.decode(m));
  const nd = of('NDEATH').map((m) => host.decode(m));
  assert.equal(bdSeqOf(nd[0]), bdSeqOf(nb[0]), 'NDEATH pairs with the first NBIRTH');
  assert.equal(bdSeqOf(nb[1]), (bdSeqOf(nb[0])! + 1) % 256, 'a new session, a new bdSeq');
  assert.equal(nd.length, 2, 'NDEATH when the host went offline, and on the clean stop');
  assert.equal(bdSeqOf(nd[1]), bdSeqOf(nb[1]), 'the stop\'s NDEATH pairs with the second NBIRTH');
  const second = of('NBIRTH')[1].i;
  const values: number[] = [];
  let liveSeen = false;
  let held = 0;
  let lastTs = 0;
  for (const m of of('DDATA')) {
    for (const x of host.decode(m).metrics) {
      values.push(x.double_value!);
      if (m.i > second) {
        if (x.is_historical) {
          assert.ok(!liveSeen, `historical reading ${x.double_value} after a live one`);
          held++;
        } else liveSeen = true;
        assert.ok(x.timestamp! >= lastTs, 'oldest first');
        lastTs = x.timestamp!;
      }
    }
  }
  assert.ok(held >= 300, `the 20 s of held readings came as historical (${held})`);
  t.diagnostic(`held (historical) ${held}, readings ${values.length}, DDATA ${of('DDATA').length}`);
  assert.ok(liveSeen, 'live data after the held data');
  // The sim counter counts 1, 2, 3, ...: every value once, none missing.
  const sorted = [...values].sort((a, b) => a - b);
  assert.equal(new Set(sorted).size, sorted.length, 'no duplicates');
  assert.equal(sorted.at(-1)! - sorted[0] + 1, sorted.length, `no gaps (${sorted.length} readings, ${sorted[0]}..${sorted.at(-1)})`);
  const stopped = d.logs.find((l) => l.msg === 'edge-agent stopped; unsent readings stay in the outbox');
  assert.ok(stopped, 'stopped line logged');
  assert.equal(stopped.backlog, 0, 'outbox empty at the end');
  assert.equal(sorted.length, stopped.readingsIn, 'every reading that entered the outbox arrived');
});
