import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnDaemon, tempDir, writeConfig } from '../helpers/daemon.js';
import { freePort, have, requireTool, sleep } from '../helpers/system.js';
import { waitFor } from '../helpers/source-context.js';
import { fakeNotifySocket, PYTHON } from '../helpers/notify-socket.js';
import { execStartArgv } from './exec-start.js';

const WATCHDOG_USEC = 3_000_000; // keep-alive every 1.5 s
const INTERVAL_MS = WATCHDOG_USEC / 2000;
const STALL_AFTER_MS = 9000;

const missing = !requireTool('systemd-notify', 'systemd') ? 'no systemd-notify' : !have(PYTHON) ? `no ${PYTHON} for the fake notify socket` : false;
if (missing && process.env.CI === 'true') throw new Error(`CI must have ${missing}`);

test('started as ExecStart does: READY=1, WATCHDOG=1 periodically, none once a source scheduler stalls, STOPPING=1', { skip: missing, timeout: 60_000 }, async (t) => {
  const notify = await fakeNotifySocket();
  t.after(() => notify.close());
  const dir = tempDir();
  // Nothing listens on the broker port: READY and the watchdog must not depend on the uplink.
  const port = await freePort();
  const cfg = writeConfig(dir, `
agent: { id: wd-board, dataDir: ${dir}/data, logLevel: info }
uplink: { mqtt: { url: "mqtt://127.0.0.1:${port}", reconnectMin: 200ms, reconnectMax: 1s } }
buffer: { flushInterval: 200ms }
sources:
  - id: gen
    driver: sim
    pollInterval: 100ms
    stallAfter: ${STALL_AFTER_MS}ms
    points: [{ name: n, wave: counter }]
control: { socket: ${dir}/agent.sock }
`);
  const { cmd, argv } = execStartArgv(cfg);
  assert.ok(argv.some((a) => a.startsWith('--max-old-space-size=')), 'runs with the unit node flags');
  const d = spawnDaemon(cmd, argv, { NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: String(WATCHDOG_USEC) });
  t.after(() => d.stop('SIGKILL'));

  await waitFor(() => notify.count('READY=1') === 1, 20_000, 'READY=1');
  const ready = notify.messages.find((m) => m.fields.includes('READY=1'))!;
  assert.ok(d.logs.some((l) => l.msg === 'edge-agent started'), 'READY only after the agent (config, outbox, sources) started');

  await waitFor(() => notify.count('WATCHDOG=1') >= 3, 20_000, '3 keep-alives');
  const beats = notify.messages.filter((m) => m.fields.includes('WATCHDOG=1'));
  assert.ok(beats[0].at > ready.at, 'keep-alives follow READY');
  // Periodic, not a burst: mean gap between 0.5x and 3x the interval (loose for a loaded machine).
  const mean = (beats.at(-1)!.at - beats[0].at) / (beats.length - 1);
  assert.ok(mean > INTERVAL_MS * 0.5 && mean < INTERVAL_MS * 3, `mean keep-alive gap ${mean.toFixed(0)} ms for interval ${INTERVAL_MS}`);

  // The sim's scheduler stops re-arming; the watchdog must notice and go silent.
  await d.waitLog((l) => String(l.msg).startsWith('sim: scheduler stalled'), STALL_AFTER_MS + 20_000);
  // The watchdog's latest transition must be into withholding, naming the stalled source (a
  // spurious withhold earlier on a loaded machine is followed by a `resumed` line).
  const transitions = () => d.logs.filter((l) => /^watchdog: (withholding|all parts progress)/.test(String(l.msg)));
  await waitFor(() => String(transitions().at(-1)?.msg ?? '').startsWith('watchdog: withholding'), 20_000, 'watchdog withholding');
  const withhold = transitions().at(-1)!;
  assert.ok((withhold.stalled as string[]).some((s) => s.startsWith('source gen silent')), JSON.stringify(withhold));
  // A keep-alive spawned just before the decision may still land: let it, then watch 4 intervals.
  await sleep(INTERVAL_MS);
  const before = notify.count('WATCHDOG=1');
  await sleep(INTERVAL_MS * 4);
  assert.equal(notify.count('WATCHDOG=1'), before, 'no WATCHDOG=1 while the source scheduler is stalled');
  assert.equal(d.proc.exitCode, null, 'the daemon itself stays up: systemd does the restart');
  assert.ok(String(transitions().at(-1)!.msg).startsWith('watchdog: withholding'), 'still withholding');

  assert.equal(await d.stop('SIGTERM'), 0);
  await waitFor(() => notify.count('STOPPING=1') === 1, 10_000, 'STOPPING=1');
  assert.equal(notify.count('READY=1'), 1);
});
