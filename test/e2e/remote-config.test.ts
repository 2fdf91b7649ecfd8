import { test } from 'node:test';
import fs from 'node:fs';
import assert from 'node:assert/strict';
import { startBroker } from '../helpers/broker.js';
import { collect, startDaemon, tempDir, writeConfig } from '../helpers/daemon.js';
import { cli, httpGet, publishOnce, signingKeys } from '../helpers/control.js';
import { freePort } from '../helpers/system.js';
import { waitFor } from '../helpers/source-context.js';

const AGENT = 'rc-board';
const SET = `edge/${AGENT}/config/set`;

function localConfig(dir: string, url: string, metricsPort: number, pub: string): string {
  return `
agent: { id: ${AGENT}, dataDir: ${dir}/data }
uplink:
  mqtt: { url: "${url}", topicPrefix: edge, reconnectMin: 100ms, reconnectMax: 500ms }
  batch: { maxDelay: 200ms }
buffer: { flushInterval: 200ms }
sources:
  - { id: gen, driver: sim, pollInterval: 50ms, points: [{ name: n, wave: counter }] }
control:
  socket: ${dir}/agent.sock
  metrics: { listen: "127.0.0.1:${metricsPort}" }
  remoteConfig: { publicKey: ${pub}, maxBytes: 16KiB }
`;
}

/** What operators push: no local-only keys. */
function remote(url: string, extraSources: object[] = []) {
  return {
    uplink: { mqtt: { url, topicPrefix: 'edge', reconnectMin: '100ms', reconnectMax: '500ms' }, batch: { maxDelay: '200ms' } },
    buffer: { flushInterval: '200ms' },
    sources: [{ id: 'gen', driver: 'sim', pollInterval: '50ms', points: [{ name: 'n', wave: 'counter' }] }, ...extraSources],
  };
}
const EXTRA = { id: 'extra', driver: 'sim', pollInterval: '50ms', points: [{ name: 'e', wave: 'constant', value: 7 }] };

test('remote config: applied, rejected for every bad push, persisted across a restart; status and metrics show it', async (t) => {
  const broker = await startBroker();
  t.after(() => broker.stop());
  t.diagnostic(`broker: ${broker.kind}`);
  const dir = tempDir();
  const keys = signingKeys(dir);
  const metricsPort = await freePort();
  const cfg = writeConfig(dir, localConfig(dir, broker.url, metricsPort, keys.pub));
  const sub = await collect(broker.url, `edge/${AGENT}/#`);
  t.after(() => sub.close());
  const states = () => sub.messages.filter((m) => m.topic === `edge/${AGENT}/config/state`).map((m) => JSON.parse(m.payload.toString()));
  const readingsOf = (source: string) => sub.batches.flatMap((b) => b.readings).filter((r) => r.source === source).length;

  let d = startDaemon(['run', '--config', cfg]);
  t.after(() => d.stop('SIGKILL'));
  await waitFor(() => readingsOf('gen') > 0, 10_000, 'readings of gen');

  const status = async () => {
    const r = await cli(['status', '--socket', `${dir}/agent.sock`, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const genBeforePush = (await status()).sources[0].readings as number;
  assert.ok(genBeforePush > 0);

  // 1. A signed push adding a source: applied within 10 s and its readings arrive.
  const v1 = remote(broker.url, [EXTRA]);
  const pushedAt = Date.now();
  await publishOnce(broker.url, SET, JSON.stringify({ version: 1, config: v1, signature: keys.sign(1, v1) }));
  await waitFor(() => states().some((s) => s.status === 'applied' && s.version === 1), 10_000, 'config/state applied v1');
  assert.ok(Date.now() - pushedAt < 10_000);
  const applied = states().find((s) => s.status === 'applied')!;
  assert.match(applied.hash, /^[0-9a-f]{64}$/);
  assert.deepEqual(applied.errors, []);
  assert.ok(Number.isInteger(applied.at));
  await waitFor(() => readingsOf('extra') > 0, 10_000, 'readings of the added source');
  assert.ok(sub.batches.flatMap((b) => b.readings).filter((r) => r.source === 'extra').every((r) => r.value === 7));
  const afterPush = await status();
  assert.ok(afterPush.sources.find((x: { id: string }) => x.id === 'gen').readings >= genBeforePush, 'source counters survive the swap');

  // 2. Bad pushes: each rejected with a reason; the running config (version 1) stays.
  const bad: [string, string | Buffer, RegExp][] = [];
  const invalid = remote(broker.url, [{ ...EXTRA, points: [{ name: 'e', wave: 'square' }] }]);
  bad.push(['invalid', JSON.stringify({ version: 2, config: invalid, signature: keys.sign(2, invalid) }), /sources\[1\]\.points\[0\]\.wave: expected one of/]);
  bad.push(['replayed version', JSON.stringify({ version: 1, config: v1, signature: keys.sign(1, v1) }), /version: 1 is not greater than the running version 1/]);
  bad.push(['unsigned', JSON.stringify({ version: 2, config: v1 }), /signature: required/]);
  bad.push(['bad signature', JSON.stringify({ version: 2, config: v1, signature: keys.sign(3, v1) }), /signature: does not verify/]);
  const big = remote(broker.url, Array.from({ length: 200 }, (_, i) => ({ ...EXTRA, id: `s${i}` })));
  bad.push(['oversized', JSON.stringify({ version: 2, config: big, signature: keys.sign(2, big) }), /exceeds control\.remoteConfig\.maxBytes \(16384\)/]);
  const local = { ...v1, control: { socket: `${dir}/other.sock` } };
  bad.push(['local-only key changed', JSON.stringify({ version: 2, config: local, signature: keys.sign(2, local) }), /control\.socket: local-only key/]);
  for (const [what, payload, re] of bad) {
    const before = states().length;
    await publishOnce(broker.url, SET, payload);
    await waitFor(() => states().length > before, 10_000, `config/state after the ${what} push`);
    const s = states().at(-1);
    assert.equal(s.status, 'rejected', what);
    assert.match(s.errors.join('\n'), re, what);
    assert.equal(s.running, 1, `${what}: version 1 still runs`);
  }
  const extraBefore = readingsOf('extra');
  const genBefore = readingsOf('gen');
  await waitFor(() => readingsOf('extra') > extraBefore + 10 && readingsOf('gen') > genBefore + 10, 10_000, 'both sources still send after the rejections');

  // 3. `edge-agent status` and /metrics show the fields.
  const s = await status();
  assert.equal(s.config.version, 1);
  assert.equal(s.config.origin, 'remote');
  assert.equal(s.link.state, 'connected');
  assert.equal(typeof s.outbox.rows, 'number');
  assert.equal(typeof s.outbox.droppedOverflow, 'number');
  assert.deepEqual(s.sources.map((x: { id: string }) => x.id).sort(), ['extra', 'gen']);
  for (const src of s.sources) {
    assert.equal(src.state, 'ok');
    assert.ok(src.lastReadingAt > Date.now() - 10_000, 'recent last reading');
    assert.equal(typeof src.errors, 'object');
    assert.ok(src.readings > 0);
  }
  assert.equal(s.configState.status, 'rejected');
  const human = await cli(['status', '--config', cfg]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /config\s+version 1 from remote/);
  assert.match(human.stdout, /link\s+connected/);
  assert.match(human.stdout, /outbox\s+\d+ batches/);
  assert.match(human.stdout, /drops\s+overflow 0/);
  assert.match(human.stdout, /^extra\s+sim\s+ok\s+\d+ \d+s ago/m);
  assert.match(human.stdout, /^gen\s+sim\s+ok\s+/m);

  const m = await httpGet(`http://127.0.0.1:${metricsPort}/metrics`);
  assert.equal(m.status, 200);
  const metric = (re: RegExp) => {
    const hit = m.text.match(re);
    assert.ok(hit, `metric ${re} in\n${m.text}`);
    return Number(hit[1]);
  };
  assert.ok(metric(/^edge_agent_readings_in_total\{source="gen"\} (\d+)/m) > 0);
  assert.ok(metric(/^edge_agent_readings_out_total\{source="extra"\} (\d+)/m) > 0);
  assert.equal(metric(/^edge_agent_link_up (\d+)/m), 1);
  assert.ok(metric(/^edge_agent_publish_latency_seconds_count (\d+)/m) > 0);
  assert.ok(metric(/^edge_agent_batches_acked_total (\d+)/m) > 0);
  metric(/^edge_agent_outbox_rows (\d+)/m);
  metric(/^edge_agent_outbox_bytes (\d+)/m);
  assert.equal(metric(/^edge_agent_outbox_dropped_total\{reason="overflow"\} (\d+)/m), 0);
  metric(/^edge_agent_link_reconnects_total (\d+)/m);
  assert.match(m.text, /^# TYPE edge_agent_stage_drops_total counter$/m);
  assert.match(m.text, /^# TYPE edge_agent_source_errors_total counter$/m);
  assert.equal(metric(/^edge_agent_source_up\{source="extra",state="ok"\} (\d+)/m), 1);
  assert.ok(metric(/^edge_agent_event_loop_lag_seconds\{quantile="0.99"\} ([\d.e-]+)/m) >= 0);
  assert.equal(metric(/^edge_agent_config_version (\d+)/m), 1);
  assert.equal(metric(/^edge_agent_config_changes_total\{status="rejected"\} (\d+)/m), bad.length);
  // config/state is retained: a late subscriber sees the last outcome.
  const late = await collect(broker.url, `edge/${AGENT}/config/state`);
  await waitFor(() => late.messages.length > 0, 5000, 'retained config/state');
  assert.equal(late.messages[0].retain, true);
  assert.equal(JSON.parse(late.messages[0].payload.toString()).status, 'rejected');
  await late.close();
  const h = await httpGet(`http://127.0.0.1:${metricsPort}/healthz`);
  assert.equal(h.status, 200);
  assert.equal(JSON.parse(h.text).healthy, true);

  // 4. The applied config survives a restart (and `check` says it is in force).
  assert.equal(await d.stop(), 0);
  const chk = await cli(['check', '--config', cfg]);
  assert.equal(chk.code, 0, chk.stderr);
  assert.match(chk.stdout, /in force: remote config version 1/);
  const extraAtStop = readingsOf('extra');
  d = startDaemon(['run', '--config', cfg]);
  await d.waitLog((l) => l.msg === 'config in force' && l.version === 1 && l.origin === 'remote');
  await waitFor(() => readingsOf('extra') > extraAtStop + 5, 10_000, 'readings of the pushed source after the restart');
  // The replay floor survives too.
  const before = states().length;
  await publishOnce(broker.url, SET, JSON.stringify({ version: 1, config: v1, signature: keys.sign(1, v1) }));
  await waitFor(() => states().length > before && states().at(-1).status === 'rejected', 10_000, 'replay after restart rejected');

  // SIGHUP with a remote config in force: it stays (newer than the file), the file's local-only keys apply.
  writeConfig(dir, localConfig(dir, broker.url, metricsPort, keys.pub).replace('maxBytes: 16KiB', 'maxBytes: 32KiB'));
  const n = states().length;
  d.proc.kill('SIGHUP');
  await waitFor(() => states().length > n, 10_000, 'state after SIGHUP');
  assert.deepEqual({ ...states().at(-1), at: 0, hash: '' }, { version: 1, hash: '', status: 'applied', errors: [], at: 0, source: 'file', running: 1 });
  const extraNow = readingsOf('extra');
  await waitFor(() => readingsOf('extra') > extraNow + 5, 10_000, 'the pushed source still runs after SIGHUP');
  assert.equal(await d.stop(), 0);
  // One outbox across swaps and restarts: seq strictly increases, nothing sent twice.
  const seqs = sub.batches.map((b) => b.seq);
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1], `seq ${seqs[i]} after ${seqs[i - 1]}`);
});

test('SIGHUP: a broken file is rejected and the old config runs; a fixed file is applied', async (t) => {
  const broker = await startBroker();
  t.after(() => broker.stop());
  const dir = tempDir();
  const keys = signingKeys(dir);
  const good = localConfig(dir, broker.url, await freePort(), keys.pub);
  const cfg = writeConfig(dir, good);
  const sub = await collect(broker.url, `edge/${AGENT}/#`);
  t.after(() => sub.close());
  const states = () => sub.messages.filter((m) => m.topic === `edge/${AGENT}/config/state`).map((m) => JSON.parse(m.payload.toString()));
  const readingsOf = (source: string) => sub.batches.flatMap((b) => b.readings).filter((r) => r.source === source).length;
  const d = startDaemon(['run', '--config', cfg]);
  t.after(() => d.stop('SIGKILL'));
  await waitFor(() => readingsOf('gen') > 0, 10_000, 'readings of gen');

  writeConfig(dir, good.replace('wave: counter', 'wave: square').replace('maxBytes: 16KiB', 'maxBytes: 16KiB, typo: 1'));
  d.proc.kill('SIGHUP');
  await waitFor(() => states().some((s) => s.status === 'rejected'), 10_000, 'rejected after SIGHUP');
  const rej = states().find((s) => s.status === 'rejected');
  assert.equal(rej.source, 'file');
  assert.match(rej.errors.join('\n'), /sources\[0\]\.points\[0\]\.wave: expected one of .*config\.yaml:\d+:\d+/);
  assert.match(rej.errors.join('\n'), /control\.remoteConfig\.typo: unknown key/);
  await d.waitLog((l) => l.msg === 'config rejected');
  const n = readingsOf('gen');
  await waitFor(() => readingsOf('gen') > n + 10, 10_000, 'gen keeps sending with the old config');
  assert.equal(d.proc.exitCode, null, 'daemon still running');

  writeConfig(dir, good.replace('sources:\n', `sources:\n  - { id: hup, driver: sim, pollInterval: 50ms, points: [{ name: h, wave: counter }] }\n`));
  d.proc.kill('SIGHUP');
  await waitFor(() => states().some((s) => s.status === 'applied' && s.source === 'file'), 10_000, 'applied after SIGHUP');
  assert.equal(states().at(-1).version, 0, 'the file is version 0');
  await waitFor(() => readingsOf('hup') > 0, 10_000, 'readings of the source added by the reload');

  // Field profiling through the control socket: the daemon writes a .cpuprofile DevTools opens.
  const prof = await cli(['debug', 'profile', '--seconds', '1', '--socket', `${dir}/agent.sock`, '--json']);
  assert.equal(prof.code, 0, prof.stderr);
  const file = JSON.parse(prof.stdout).file as string;
  assert.ok(file.startsWith(`${dir}/data/debug/`), file);
  assert.ok(JSON.parse(fs.readFileSync(file, 'utf8')).nodes.length > 0);
  const noDaemon = await cli(['status', '--socket', `${dir}/nothing.sock`]);
  assert.equal(noDaemon.code, 1);
  assert.match(noDaemon.stderr, /cannot reach the daemon .*is the daemon running/);
  assert.equal(await d.stop(), 0);
});
