import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { ControlServer, ControlError } from '../../../agent/control/server.js';
import { controlRequest } from '../../../agent/control/client.js';
import { cpuProfile, heapSnapshot } from '../../../agent/control/debug.js';
import { silentLogger } from '../../../core/log.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-ctl-'));

test('control socket: methods, streamed events, errors, mode 0660, one daemon per socket', async (t) => {
  const file = path.join(dir, 'run', 'agent.sock');
  const srv = new ControlServer(silentLogger);
  srv.register('echo', 'echo params', (p) => p);
  srv.register('count', 'stream n events', async (p, ctx) => {
    for (let i = 0; i < Number(p.n); i++) ctx.emit({ i });
    return { done: true };
  });
  srv.register('fail', 'always fails', () => { throw new ControlError('port /dev/ttyUSB0 is busy', 'busy'); });
  await srv.listen(file);
  t.after(() => srv.close());
  assert.equal(fs.statSync(file).mode & 0o777, 0o660);

  assert.deepEqual(await controlRequest(file, 'echo', { a: 1 }), { a: 1 });
  const events: unknown[] = [];
  assert.deepEqual(await controlRequest(file, 'count', { n: 3 }, { onEvent: (e) => events.push(e) }), { done: true });
  assert.deepEqual(events, [{ i: 0 }, { i: 1 }, { i: 2 }]);
  await assert.rejects(controlRequest(file, 'fail'), (e: Error & { code: string }) => e.code === 'busy' && /busy/.test(e.message));
  await assert.rejects(controlRequest(file, 'nope'), /unknown method "nope"; try "methods"/);
  const methods = (await controlRequest(file, 'methods')) as { name: string }[];
  assert.deepEqual(methods.map((m) => m.name).sort(), ['count', 'echo', 'fail', 'methods', 'ping']);

  // Raw protocol: several requests on one connection, answered by id; garbage gets an error line.
  const raw = await new Promise<string[]>((resolve) => {
    const s = net.connect(file);
    let buf = '';
    s.on('data', (d) => {
      buf += d;
      const lines = buf.split('\n').filter(Boolean);
      if (lines.length >= 3) { s.destroy(); resolve(lines); }
    });
    s.write('{"id":"a","method":"ping"}\n{oops\n{"id":7,"method":"echo","params":{"x":true}}\n');
  });
  const msgs = raw.map((l) => JSON.parse(l));
  assert.ok(msgs.some((m) => m.id === 'a' && m.ok && m.result.pong === true));
  assert.ok(msgs.some((m) => m.id === null && !m.ok && m.error.code === 'bad-request'));
  assert.ok(msgs.some((m) => m.id === 7 && m.ok && m.result.x === true));

  const second = new ControlServer(silentLogger);
  await assert.rejects(second.listen(file), /in use: is another edge-agent running/);
});

test('control socket: a stale socket file from a crash is replaced; the client explains an absent daemon', async () => {
  const file = path.join(dir, 'stale.sock');
  // A daemon killed hard leaves its socket file behind with nobody listening.
  spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(file)}, () => process.kill(process.pid, 'SIGKILL'))`]);
  assert.ok(fs.existsSync(file));
  await assert.rejects(controlRequest(file, 'ping'), /cannot reach the daemon .*is the daemon running/);
  const srv = new ControlServer(silentLogger);
  await srv.listen(file);
  assert.equal(((await controlRequest(file, 'ping')) as { pong: boolean }).pong, true);
  await srv.close();
  assert.ok(!fs.existsSync(file), 'socket removed on close');
});

test('debug: CPU profile and heap snapshot files DevTools can open', async () => {
  const out = path.join(dir, 'debug');
  const p = await cpuProfile(out, 1, new AbortController().signal);
  const prof = JSON.parse(fs.readFileSync(p.file, 'utf8'));
  assert.ok(Array.isArray(prof.nodes) && prof.nodes.length > 0 && prof.endTime > prof.startTime);
  assert.match(p.file, /\.cpuprofile$/);
  await assert.rejects(cpuProfile(out, 0, new AbortController().signal), /seconds: expected 1\.\.300/);
  const h = heapSnapshot(out);
  assert.match(h.file, /\.heapsnapshot$/);
  const head = fs.readFileSync(h.file, 'utf8').slice(0, 200);
  assert.match(head, /"snapshot":\{"meta":/);
});
