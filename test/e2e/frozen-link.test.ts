// Issue 12 item 11: a frozen link (TCP up, broker silent) behind a proxy, the built daemon and mosquitto.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker } from '../helpers/broker.js';
import { startFreezeProxy } from '../helpers/freeze-proxy.js';
import { collect, startDaemon, tempDir, writeConfig } from '../helpers/daemon.js';
import { sleep } from '../helpers/system.js';

function config(dir: string, url: string, mqtt: string): string {
  return writeConfig(dir, `agent: { id: frozen-1, dataDir: ${dir}/data }
uplink:
  mqtt: { url: "${url}", ${mqtt} }
  batch: { maxDelay: 200ms }
buffer: { flushInterval: 400ms }
control: { socket: ${dir}/agent.sock }
sources:
  - { id: s, driver: sim, pollInterval: 50ms, points: [ { name: n, wave: counter } ] }
`);
}

/** Every seq from the first to the last arrived (resends may repeat some): nothing lost. */
function assertContiguous(seqs: number[]): void {
  const uniq = [...new Set(seqs)].sort((a, b) => a - b);
  for (let i = 1; i < uniq.length; i++) assert.equal(uniq[i], uniq[i - 1] + 1, `gap after seq ${uniq[i - 1]}`);
}

test('with batches waiting, an overdue PUBACK (ackTimeout, default 10 s) ends a frozen connection within 15 s; nothing is lost', async () => {
  const broker = await startBroker();
  const proxy = await startFreezeProxy(broker.port);
  const sub = await collect(broker.url, 'edge/frozen-1/data');
  const dir = tempDir();
  // keepalive 30 s (the default): keepalive alone would notice only after 45 s.
  const d = startDaemon(['run', '--config', config(dir, proxy.url, 'keepalive: 30s')]);
  try {
    await d.waitLog((l) => l.msg === 'uplink connected');
    await sleep(1500);
    assert.ok(sub.batches.length > 0, 'data flows before the freeze');
    const frozenAt = performance.now();
    proxy.freeze();
    const overdue = await d.waitLog((l) => /no PUBACK within uplink\.mqtt\.ackTimeout/.test(String(l.msg)), 20_000);
    const detectedMs = performance.now() - frozenAt;
    const disc = await d.waitLog((l) => String(l.msg).startsWith('uplink disconnected'), 5000);
    console.log(`# frozen link detected after ${(detectedMs / 1000).toFixed(1)} s (PUBACK waited ${overdue.waitedMs} ms); disconnect log inflight ${disc.inflight}`);
    assert.ok(detectedMs < 15_000, `detected after ${detectedMs} ms`);
    assert.ok(detectedMs >= 9_000, `not before the timeout: ${detectedMs} ms`);
    assert.ok(Number(disc.inflight) > 0, 'the disconnect log counts the batches that were waiting');
    // Reconnects (through the proxy: new connections are not frozen) and resends what waited.
    await d.waitLog((l) => l.msg === 'uplink connected' && d.logs.indexOf(l) > d.logs.indexOf(disc), 20_000);
    await sleep(1500);
  } finally {
    assert.equal(await d.stop(), 0);
    await sleep(300);
    await sub.close();
    await proxy.close();
    await broker.stop();
  }
  assertContiguous(sub.batches.map((b) => b.seq));
});

test('after a keepalive timeout the disconnect log counts the batches in flight (was: inflight 0)', async () => {
  const broker = await startBroker();
  const proxy = await startFreezeProxy(broker.port);
  const dir = tempDir();
  // ackTimeout off: only keepalive (1 s, so 1.5 s to notice) ends the connection, as in the report.
  const d = startDaemon(['run', '--config', config(dir, proxy.url, 'keepalive: 1s, ackTimeout: 0')]);
  try {
    await d.waitLog((l) => l.msg === 'uplink connected');
    await sleep(800);
    proxy.freeze();
    const disc = await d.waitLog((l) => String(l.msg).startsWith('uplink disconnected'), 15_000);
    assert.ok(!d.logs.some((l) => /no PUBACK/.test(String(l.msg))), 'ackTimeout 0 is off');
    // About 1.5 s of frozen link at a batch per 200 ms: several batches were waiting.
    assert.ok(Number(disc.inflight) >= 2, `inflight ${disc.inflight}`);
    assert.equal(typeof disc.resendFromSeq, 'number');
  } finally {
    await d.stop();
    await proxy.close();
    await broker.stop();
  }
});
