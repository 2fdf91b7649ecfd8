import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { startBroker } from '../helpers/broker.js';
import { collect, startDaemon, tempDir, writeConfig, type BatchDoc } from '../helpers/daemon.js';
import { cli } from '../helpers/control.js';
import { freePort } from '../helpers/system.js';
import { waitFor } from '../helpers/source-context.js';
import { bufferStats } from '../../agent/cli/buffer.js';

/** Issue 12 items 5 and 6 against the built daemon and a real broker. */

function config(dir: string, data: string, url: string, metricsPort?: number): string {
  return `
agent: { id: stream-board, dataDir: ${data} }
uplink:
  mqtt: { url: "${url}", reconnectMin: 100ms, reconnectMax: 300ms }
  batch: { maxReadings: 20, maxDelay: 100ms }
buffer: { flushInterval: 200ms }
control: { socket: ${dir}/agent.sock${metricsPort ? `, metrics: { listen: "127.0.0.1:${metricsPort}" }` : ''} }
sources:
  - { id: gen, driver: sim, pollInterval: 10ms, points: [ { name: n, wave: counter } ] }
`;
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

test('dataDir is a regular file: health degraded, outboxWritable false, data flows from memory in its own stream, the stop log tells the truth', { timeout: 60_000 }, async (t) => {
  const dir = tempDir();
  const data = `${dir}/data`;
  fs.writeFileSync(data, 'a file, not a directory');
  const broker = await startBroker();
  t.after(() => broker.stop());
  const sub = await collect(broker.url, 'edge/stream-board/data');
  t.after(() => sub.close());
  const metrics = await freePort();
  const d = startDaemon(['run', '--config', writeConfig(dir, config(dir, data, broker.url, metrics))]);
  t.after(() => d.stop('SIGKILL'));
  const err = await d.waitLog((l) => String(l.msg).startsWith('cannot open the outbox'));
  assert.match(String(err.msg), /agent\.dataDir is not a directory/);
  assert.doesNotMatch(String(err.err), /^(\w+): \1:/, 'the error code is not doubled');
  await waitFor(() => sub.batches.length >= 5, 15_000, 'batches sent from memory');
  assert.equal(sub.batches[0].seq, 1, 'a fresh stream counts from 1');
  const st = await cli(['status', '--socket', `${dir}/agent.sock`, '--json']);
  assert.equal(st.code, 0, st.stderr);
  const s = JSON.parse(st.stdout);
  assert.equal(s.health.healthy, false, 'degraded while the outbox cannot be written, even with the link up');
  assert.equal(s.health.outboxWritable, false);
  assert.equal(s.outbox.stream, sub.batches[0].stream, 'status shows the stream');
  const hz = await get(`http://127.0.0.1:${metrics}/healthz`);
  assert.equal(hz.status, 503, hz.body);
  const human = await cli(['status', '--socket', `${dir}/agent.sock`]);
  assert.match(human.stdout, /degraded: the outbox takes no writes/);
  assert.match(human.stdout, new RegExp(`stream\\s+${sub.batches[0].stream}`));

  assert.equal(await d.stop(), 0);
  const stopped = await d.waitLog((l) => String(l.msg).startsWith('edge-agent stopped'));
  const received = sub.batches.reduce((n, b) => n + b.readings.length, 0);
  assert.doesNotMatch(String(stopped.msg), /stay in the outbox/, 'there is no outbox to stay in');
  if (stopped.lost === 0) assert.match(String(stopped.msg), /could not be written, but every reading was sent/);
  else assert.match(String(stopped.msg), /readings held in memory are lost/);
  await waitFor(() => sub.batches.reduce((n, b) => n + b.readings.length, 0) + (stopped.lost as number) >= (stopped.readingsProduced as number), 5000, 'received + lost = produced');
  t.diagnostic(`produced ${stopped.readingsProduced}, received ${received}, lost ${stopped.lost}: ${stopped.msg}`);
  const says = (re: RegExp) => d.logs.some((l) => re.test(String(l.msg)));
  assert.ok(!(says(/stay in the outbox/) && says(/held in memory are lost/)), 'never both claims');
});

test('runs on an unwritable, then a writable, then a lost outbox: a new stream exactly when continuity cannot be proven, seq never lower within one', { timeout: 90_000 }, async (t) => {
  const dir = tempDir();
  const data = `${dir}/data`;
  const broker = await startBroker();
  t.after(() => broker.stop());
  const sub = await collect(broker.url, 'edge/stream-board/data');
  t.after(() => sub.close());
  const cfg = writeConfig(dir, config(dir, data, broker.url));
  const streams: string[] = [];
  const oneRun = async () => {
    const n = sub.batches.length;
    const d = startDaemon(['run', '--config', cfg]);
    t.after(() => d.stop('SIGKILL'));
    await waitFor(() => sub.batches.length >= n + 5, 15_000, 'batches of this run');
    assert.equal(await d.stop(), 0);
    await waitFor(() => sub.batches.length > n, 1000, '');
    streams.push(sub.batches[n].stream);
    return sub.batches.slice(n);
  };
  fs.writeFileSync(data, 'not yet a directory'); // 1: unwritable
  const r1 = await oneRun();
  fs.rmSync(data); // 2: writable, a new outbox
  const r2 = await oneRun();
  const r3 = await oneRun(); // 3: the same outbox
  for (const f of fs.readdirSync(data)) fs.rmSync(`${data}/${f}`); // 4: the outbox is lost
  const r4 = await oneRun();
  assert.equal(r1[0].seq, 1);
  assert.equal(r2[0].seq, 1, 'a new outbox counts from 1 (issue 12: it did so in the same identity)');
  assert.notEqual(streams[1], streams[0], 'but in another stream');
  assert.equal(streams[2], streams[1], 'a restart on the same outbox keeps the stream');
  assert.ok(r3[0].seq > r2.at(-1)!.seq, 'and seq goes on above the last run');
  assert.notEqual(streams[3], streams[2], 'a lost outbox starts a new stream');
  assert.equal(r4[0].seq, 1);
  assert.equal(bufferStats(data).stream, streams[3], 'buffer stats shows the stream');
  const per = new Map<string, BatchDoc[]>();
  for (const b of sub.batches) per.set(b.stream, [...(per.get(b.stream) ?? []), b]);
  for (const [s, bs] of per) for (let i = 1; i < bs.length; i++) assert.ok(bs[i].seq > bs[i - 1].seq, `stream ${s}: ${bs[i - 1].seq} then ${bs[i].seq}`);
  const out = await cli(['buffer', 'stats', '--data-dir', data]);
  assert.match(out.stdout, new RegExp(`stream\\s+${streams[3]}`));
  t.diagnostic(`streams ${streams.join(' ')}; first seqs ${[r1, r2, r3, r4].map((r) => r[0].seq).join(' ')}`);
});
