import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MqttUplink } from '../../../agent/uplink/mqtt-uplink.js';
import { uplinkSchema } from '../../../agent/uplink/schema.js';
import { BatchEncoder } from '../../../agent/outbox/encode.js';
import type { BatchSource, StoredBatch } from '../../../core/batch.js';
import { silentLogger } from '../../../core/log.js';
import { startBroker } from '../../helpers/broker.js';
import { requireTool, sleep } from '../../helpers/system.js';
import { waitFor } from '../../helpers/source-context.js';
import { publishOnce } from '../../helpers/control.js';
import { protocEncode, sparkplugHost } from '../../helpers/sparkplug.js';

const haveProtoc = requireTool('protoc', 'protobuf-compiler');

/** An in-memory BatchSource: what the uplink sees of the outbox. */
function source(batches: StoredBatch[]) {
  const acked: number[] = [];
  const src: BatchSource = {
    next: (after, limit) => batches.filter((b) => b.seq > after && !acked.includes(b.seq)).slice(0, limit),
    ack: (seq) => void acked.push(seq),
  };
  return { src, acked };
}

test('sparkplug-b on a metered link with a rebirth mid-stream and a corrupt stored batch: seq stays gapless, every reading once', { skip: !haveProtoc, timeout: 60_000 }, async (t) => {
  const broker = await startBroker();
  t.after(() => broker.stop());
  const enc = new BatchEncoder('node-m');
  const batches: StoredBatch[] = [];
  let v = 0;
  for (let seq = 1; seq <= 30; seq++) {
    if (seq === 10) {
      batches.push({ seq, n: 1, payload: Buffer.from('{"agent":"node-m","seq":10,"readings":[{"sou') });
      continue;
    }
    const frags = Array.from({ length: 5 }, () => enc.reading({ source: v % 2 ? 'a' : 'b', point: 'x', ts: Date.now(), value: v++ }));
    batches.push({ seq, n: 5, payload: Buffer.from(enc.batch('strm0001', seq, Date.now(), frags)) });
  }
  const { src, acked } = source(batches);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spb-up-'));
  const cfg = uplinkSchema.parse({ mqtt: { url: broker.url, qos: 1, inflight: 4 }, batch: { maxBytes: 300 }, maxBytesPerSecond: 300, profile: 'sparkplug-b', sparkplug: { groupId: 'g' } });
  const host = await sparkplugHost(broker.url, 'g');
  t.after(() => host.close());
  const up = new MqttUplink(cfg, 'node-m', src, silentLogger, {
    sparkplug: { dataDir, devices: () => [{ id: 'a', up: true, points: [] }, { id: 'b', up: true, points: [] }], lastValue: () => undefined },
  });
  const t0 = Date.now();
  up.start();
  t.after(() => up.stop());
  await waitFor(() => acked.length >= 8, 20_000, 'a third of the batches');
  await publishOnce(broker.url, 'spBv1.0/g/NCMD/node-m', protocEncode('timestamp: 1\nmetrics { name: "Node Control/Rebirth" datatype: 11 boolean_value: true }'));
  await waitFor(() => acked.length === 30, 30_000, 'every batch acknowledged (or dropped as unreadable)');
  const took = Date.now() - t0;
  await sleep(300);
  const bytes = host.messages.filter((m) => m.type !== 'NCMD').reduce((n, m) => n + m.raw.length, 0);
  t.diagnostic(`${bytes} bytes in ${took} ms at 300 B/s`);
  assert.ok(took >= (bytes - 300) / 300 * 1000 * 0.8, 'the token bucket paced the batches (they were parked)');
  assert.equal(up.counters.undecodableBatches, 1, 'the corrupt batch is dropped, counted');
  assert.ok(host.messages.filter((m) => m.type === 'NBIRTH').length >= 2, 'rebirth happened');

  let expect = -1;
  const values: number[] = [];
  for (const m of host.messages) {
    const p = host.decode(m);
    if (m.type === 'NCMD') continue;
    if (m.type === 'NBIRTH') expect = 0;
    assert.equal(p.seq, expect, `seq of ${m.topic} #${m.i}`);
    expect = (expect + 1) % 256;
    if (m.type === 'DDATA') values.push(...p.metrics.map((x) => x.double_value!));
  }
  const sorted = [...values].sort((a, b) => a - b);
  assert.deepEqual(sorted, Array.from({ length: 29 * 5 }, (_, i) => i), 'every reading of the readable batches, once');
});
