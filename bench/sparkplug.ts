/**
 * The uplink's payload-encoder step on the same stored batches, same run: JSON (as stored, sent
 * as is), json+gzip, and Sparkplug B DDATA (one per source, metrics by alias). Readings/s of the
 * encode step and bytes on the wire per reading; also what loading the sparkplug-b profile costs
 * (time and heap of the dynamic import, paid only by agents that choose it).
 * Usage: node --import tsx bench/sparkplug.ts [seconds per encoder=3]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { MqttClient } from 'mqtt';
import { BatchEncoder } from '../agent/outbox/encode.js';
import { uplinkSchema } from '../agent/uplink/schema.js';
import { JsonProfile, type UplinkProfile } from '../agent/uplink/profile.js';
import { topics } from '../agent/uplink/topics.js';
import type { StoredBatch } from '../core/batch.js';
import { silentLogger } from '../core/log.js';
import { report } from './lib/report.js';
import type { Reading } from '../core/reading.js';

const seconds = Number(process.argv[2] ?? 3);
const SOURCES = 5;
const POINTS = 10;
const PER_BATCH = 500;

// 64 distinct batches of 500 readings: 5 sources x 10 float points, 1 s apart, plausible sensor values.
const enc = new BatchEncoder('bench-node');
const batches: StoredBatch[] = [];
let ts = Date.now();
for (let b = 0; b < 64; b++) {
  const frags: string[] = [];
  for (let i = 0; i < PER_BATCH; i++) {
    const s = i % SOURCES;
    const p = Math.floor(i / SOURCES) % POINTS;
    frags.push(enc.reading({ source: `src-${s}`, point: `p${p}`, ts: ts + Math.floor(i / (SOURCES * POINTS)) * 1000, value: Math.round((20 + 10 * Math.sin((b * PER_BATCH + i) / 97)) * 100) / 100 }));
  }
  ts += 10_000;
  batches.push({ seq: b + 1, n: PER_BATCH, payload: Buffer.from(enc.batch('bench1', b + 1, ts, frags)) });
}

function run(profile: UplinkProfile): { readingsPerSecond: number; bytesPerReading: number } {
  let readings = 0;
  let bytes = 0;
  const end = performance.now() + seconds * 1000;
  let i = 0;
  while (performance.now() < end) {
    for (let k = 0; k < 16; k++, i++) {
      const b = batches[i % batches.length];
      for (const m of profile.encode(b)) bytes += m.payload.length;
      readings += b.n;
    }
  }
  const elapsed = seconds;
  return { readingsPerSecond: Math.round(readings / elapsed), bytesPerReading: Math.round((bytes / readings) * 100) / 100 };
}

const cfg = (encoding: 'json' | 'json+gzip') => uplinkSchema.parse({ mqtt: { url: 'mqtt://127.0.0.1:1883', qos: 0 }, batch: { encoding }, profile: 'sparkplug-b', sparkplug: { groupId: 'bench' } });
const t = topics('edge', 'bench-node');
// JSON's encoding is done by the outbox (readings -> batch document); its uplink step sends the stored bytes as they are.
const json = (() => {
  const readings = batches.flatMap((b) => (JSON.parse(b.payload.toString()) as { readings: Reading[] }).readings).slice(0, PER_BATCH * 16);
  let n = 0;
  let bytes = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    for (let k = 0; k < 16; k++) {
      const frags = readings.slice(k * PER_BATCH, (k + 1) * PER_BATCH).map((r) => enc.reading(r));
      bytes += Buffer.byteLength(enc.batch('bench1', k, ts, frags));
      n += PER_BATCH;
    }
  }
  return { readingsPerSecond: Math.round(n / seconds), bytesPerReading: Math.round((bytes / n) * 100) / 100 };
})();
const gzip = run(new JsonProfile(cfg('json+gzip'), t, 'bench-node'));

global.gc?.();
const heap0 = process.memoryUsage().heapUsed;
const t0 = performance.now();
const { SparkplugProfile } = await import('../agent/uplink/sparkplug/profile.js');
const loadMs = Math.round((performance.now() - t0) * 10) / 10;
global.gc?.();
const loadHeapKiB = Math.round((process.memoryUsage().heapUsed - heap0) / 1024);

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spb-bench-'));
const devices = Array.from({ length: SOURCES }, (_, s) => ({ id: `src-${s}`, up: true, points: Array.from({ length: POINTS }, (_, p) => ({ name: `p${p}`, type: 'float64' as const })) }));
const sp = new SparkplugProfile(cfg('json'), 'bench-node', { dataDir, devices: () => devices, lastValue: () => undefined }, silentLogger);
sp.will();
sp.onConnect({ subscribe: () => undefined } as unknown as MqttClient, { publish: () => undefined, kick: () => undefined, restartSession: () => undefined });
const spb = run(sp);
fs.rmSync(dataDir, { recursive: true, force: true });

report('sparkplug', {
  what: `JSON: the outbox's batch encoding from readings; json+gzip and DDATA: the uplink's encode step per stored batch (${PER_BATCH} readings, ${SOURCES} sources x ${POINTS} float points), ${seconds} s each, same process`,
  figures: {
    ddata_readings_per_s: spb.readingsPerSecond,
    ddata_bytes_per_reading: spb.bytesPerReading,
    json_gzip_readings_per_s: gzip.readingsPerSecond,
    json_gzip_bytes_per_reading: gzip.bytesPerReading,
    profile_load_ms: loadMs,
    profile_load_heap_kib: loadHeapKiB,
  },
  baseline: { json_readings_per_s: json.readingsPerSecond, json_bytes_per_reading: json.bytesPerReading },
  ratio: `DDATA ${Math.round((spb.bytesPerReading / json.bytesPerReading) * 100)}% of JSON's bytes, ${Math.round((spb.readingsPerSecond / json.readingsPerSecond) * 100) / 100}x its encode rate`,
});
