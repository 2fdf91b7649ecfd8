import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startBroker } from '../helpers/broker.js';
import { collect, startDaemon, tempDir, writeConfig, type Daemon } from '../helpers/daemon.js';
import { freePort, requireTool, sleep } from '../helpers/system.js';
import { waitFor } from '../helpers/source-context.js';

const tools = requireTool('mosquitto', 'mosquitto') && requireTool('openssl', 'openssl') && requireTool('mosquitto_passwd', 'mosquitto');
const skip = tools ? false : 'needs mosquitto, mosquitto_passwd and openssl (TLS and password files are broker features)';

/** A CA, a server cert for 127.0.0.1, a client cert, and an unrelated CA, made with openssl. */
function makePki(dir: string) {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const ca of ['ca', 'other-ca']) ssl('req', '-x509', ...ec, '-keyout', `${ca}.key`, '-out', `${ca}.crt`, '-days', '2', '-subj', `/CN=${ca}`);
  fs.writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const [name, cn, ext] of [['server', 'localhost', ['-extfile', 'server.ext']], ['client', 'tls-board', []]] as const) {
    ssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', ...ext);
  }
  // mosquitto started as root drops to its own user: let it read the files.
  fs.chmodSync(dir, 0o755);
  for (const f of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, f), 0o644);
  return (f: string) => path.join(dir, f);
}

function config(data: string, mqtt: string): string {
  return `
agent: { id: sec-board, dataDir: ${data}, logLevel: debug }
uplink:
  mqtt: { ${mqtt}, reconnectMin: 200ms, reconnectMax: 1s, connectTimeout: 3s }
  batch: { maxReadings: 20, maxDelay: 100ms }
buffer: { flushInterval: 100ms }
sources:
  - { id: gen, driver: sim, pollInterval: 20ms, points: [ { name: n, wave: counter } ] }
`;
}

/** A refused link: exactly one error line naming the cause, retries with backoff, process alive. */
async function assertRefusedCalmly(d: Daemon, cause: RegExp) {
  await d.waitLog((l) => l.msg === 'uplink error', 15_000);
  await waitFor(() => d.logs.filter((l) => l.msg === 'uplink reconnect scheduled').length >= 4, 20_000, '4 reconnect attempts');
  const errors = d.logs.filter((l) => l.msg === 'uplink error');
  assert.equal(errors.length, 1, `one error line for ${errors.length > 1 ? 'repeated' : 'one'} failures: ${JSON.stringify(errors)}`);
  assert.match(String(errors[0].err), cause);
  assert.equal(d.proc.exitCode, null, 'still running');
  assert.ok(!d.logs.some((l) => l.msg === 'uplink connected'));
  const delays = d.logs.filter((l) => l.msg === 'uplink reconnect scheduled').map((l) => l.delayMs as number);
  assert.ok(delays.every((x) => x >= 100 && x <= 1000), `backoff within bounds: ${delays.join(',')}`);
  return String(errors[0].err);
}

test('mqtts with client certificates (require_certificate true): works; wrong CA or no client cert: one clear error, backoff, no crash', { skip, timeout: 60_000 }, async (t) => {
  const dir = tempDir('edge-pki-');
  const f = makePki(dir);
  const port = await freePort();
  const broker = await startBroker({
    port,
    extraConfig: `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\ncafile ${f('ca.crt')}\ncertfile ${f('server.crt')}\nkeyfile ${f('server.key')}\nrequire_certificate true\n`,
  });
  t.after(() => broker.stop());
  const url = `mqtts://127.0.0.1:${port}`;
  const tls = { ca: fs.readFileSync(f('ca.crt')), cert: fs.readFileSync(f('client.crt')), key: fs.readFileSync(f('client.key')) };
  const sub = await collect(url, 'edge/sec-board/#', tls);
  t.after(() => sub.close());

  const good = startDaemon(['run', '--config', writeConfig(dir, config(`${dir}/d1`, `url: "${url}", ca: ${f('ca.crt')}, cert: ${f('client.crt')}, key: ${f('client.key')}`), 'good.yaml')]);
  t.after(() => good.stop('SIGKILL'));
  await waitFor(() => sub.batches.length >= 3, 15_000, 'batches over mutual TLS');
  assert.equal(await good.stop(), 0);

  const wrongCa = startDaemon(['run', '--config', writeConfig(dir, config(`${dir}/d2`, `url: "${url}", ca: ${f('other-ca.crt')}, cert: ${f('client.crt')}, key: ${f('client.key')}`), 'wrong-ca.yaml')]);
  t.after(() => wrongCa.stop('SIGKILL'));
  const noCert = startDaemon(['run', '--config', writeConfig(dir, config(`${dir}/d3`, `url: "${url}", ca: ${f('ca.crt')}`), 'no-cert.yaml')]);
  t.after(() => noCert.stop('SIGKILL'));
  t.diagnostic(`wrong CA: ${await assertRefusedCalmly(wrongCa, /self-signed certificate in certificate chain \(check uplink\.mqtt\.ca/)}`);
  t.diagnostic(`no client cert: ${await assertRefusedCalmly(noCert, /^TLS alert from the broker: certificate required \(check uplink\.mqtt\.cert \/ key/)}`);
  // Readings are kept while the link is refused.
  assert.equal(await wrongCa.stop(), 0);
  const stopped = await wrongCa.waitLog((l) => typeof l.msg === 'string' && l.msg.startsWith('edge-agent stopped'));
  assert.ok((stopped.backlog as number) > 0 && stopped.backlog === stopped.readingsProduced, 'every reading is in the outbox');
});

test('password: wrong one gives one clear error and backoff; passwordFile and EDGE_AGENT_MQTT_PASSWORD work; secrets never logged or published', { skip, timeout: 60_000 }, async (t) => {
  const dir = tempDir('edge-auth-');
  const secret = 'S3cr3t-pw-' + Math.random().toString(36).slice(2);
  const wrong = 'Wr0ng-pw-' + Math.random().toString(36).slice(2);
  fs.chmodSync(dir, 0o755);
  execFileSync('mosquitto_passwd', ['-b', '-c', path.join(dir, 'passwd'), 'sec-board', secret]);
  execFileSync('mosquitto_passwd', ['-b', path.join(dir, 'passwd'), 'admin', 'admin-pw']);
  fs.chmodSync(path.join(dir, 'passwd'), 0o644);
  fs.writeFileSync(path.join(dir, 'right.pass'), secret + '\n', { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'wrong.pass'), wrong + '\n', { mode: 0o600 });
  const port = await freePort();
  const broker = await startBroker({ port, extraConfig: `listener ${port} 127.0.0.1\nallow_anonymous false\npassword_file ${dir}/passwd\npersistence false\n` });
  t.after(() => broker.stop());
  const url = `mqtt://127.0.0.1:${port}`;
  const sub = await collect(url, '#', { username: 'admin', password: 'admin-pw' });
  t.after(() => sub.close());

  const bad = startDaemon(['run', '--config', writeConfig(dir, config(`${dir}/d1`, `url: "${url}", username: sec-board, passwordFile: ${dir}/wrong.pass`), 'bad.yaml')]);
  t.after(() => bad.stop('SIGKILL'));
  t.diagnostic(`wrong password: ${await assertRefusedCalmly(bad, /(Not authorized|Bad user ?name or password).*\(check uplink\.mqtt\.username \/ passwordFile/i)}`);
  assert.equal(await bad.stop(), 0);

  const byFile = startDaemon(['run', '--config', writeConfig(dir, config(`${dir}/d2`, `url: "${url}", username: sec-board, passwordFile: ${dir}/right.pass`), 'file.yaml')]);
  t.after(() => byFile.stop('SIGKILL'));
  await waitFor(() => sub.batches.length >= 2, 15_000, 'batches with passwordFile');
  assert.equal(await byFile.stop(), 0);
  const n = sub.batches.length;
  const byEnv = startDaemon(['run', '--config', writeConfig(dir, config(`${dir}/d3`, `url: "${url}", username: sec-board`), 'env.yaml')], { EDGE_AGENT_MQTT_PASSWORD: secret });
  t.after(() => byEnv.stop('SIGKILL'));
  await waitFor(() => sub.batches.length >= n + 2, 15_000, 'batches with EDGE_AGENT_MQTT_PASSWORD');
  assert.equal(await byEnv.stop(), 0);
  await sleep(200);

  // No secret in any log line, on stderr, or in anything published (status, will, data).
  for (const d of [bad, byFile, byEnv]) {
    const text = JSON.stringify(d.logs) + d.stderr;
    assert.ok(!text.includes(secret) && !text.includes(wrong), 'password absent from logs');
  }
  const published = sub.messages.map((m) => m.payload.toString()).join('\n');
  assert.ok(sub.messages.some((m) => m.topic === 'edge/sec-board/status'), 'status was published');
  assert.ok(!published.includes(secret) && !published.includes(wrong), 'password absent from everything published');
});
