// Sign a command (SPEC "Commands": a write to a device point) and print or publish it.
//
//   node --import tsx scripts/sign-command.ts --keygen ./keys      # command-signing.pem + .pub
//   node --import tsx scripts/sign-command.ts --key command-signing.pem --source boiler --point setpoint --value 21.5
//   node --import tsx scripts/sign-command.ts --key command-signing.pem --source boiler --point pump_on --value true \
//        --publish mqtts://broker:8883 --agent pump-station-7 [--prefix edge] [--wait 10s]
//
// The signature is ed25519 over the JCS canonical JSON of {"id", "point", "source", "ts", "value"}.
// `id` defaults to a random UUID and `ts` to now: a command is valid for control.commands.maxAge
// after it is signed, so sign it when you send it. --publish waits for .../cmd/result and exits
// 0 when the command is done, 1 when it was rejected or failed (or no result came).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { signCommand } from '../agent/control/commands/envelope.js';
import { parseDuration } from '../core/units.js';

const { values } = parseArgs({
  options: {
    key: { type: 'string' },
    keygen: { type: 'string' },
    source: { type: 'string' },
    point: { type: 'string' },
    value: { type: 'string' },
    id: { type: 'string' },
    ts: { type: 'string' },
    publish: { type: 'string' },
    agent: { type: 'string' },
    prefix: { type: 'string', default: 'edge' },
    wait: { type: 'string', default: '10s' },
  },
});

function fail(msg: string, code = 1): never {
  process.stderr.write(`sign-command: ${msg}\n`);
  process.exit(code);
}

if (values.keygen) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  fs.mkdirSync(values.keygen, { recursive: true });
  const priv = path.join(values.keygen, 'command-signing.pem');
  const pub = path.join(values.keygen, 'command-signing.pub');
  fs.writeFileSync(priv, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  fs.writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }));
  process.stdout.write(`${priv} (keep secret)\n${pub} (control.commands.publicKey on the boards)\n`);
  process.exit(0);
}

const usage = 'usage: sign-command --key PRIVATE.pem --source S --point P --value V [--id ID] [--publish URL --agent ID]';
if (!values.key || !values.source || !values.point || values.value === undefined) fail(usage, 2);
let value: number | boolean;
if (values.value === 'true' || values.value === 'false') value = values.value === 'true';
else {
  value = Number(values.value);
  if (values.value.trim() === '' || !Number.isFinite(value)) fail(`--value: expected a number, true or false, got "${values.value}"`, 2);
}
const ts = values.ts === undefined ? Date.now() : Number(values.ts);
if (!Number.isSafeInteger(ts)) fail(`--ts: expected epoch milliseconds, got "${values.ts}"`, 2);
const cmd = { id: values.id ?? crypto.randomUUID(), source: values.source, point: values.point, value, ts };
const text = JSON.stringify({ ...cmd, signature: signCommand(cmd, fs.readFileSync(values.key)) });

if (!values.publish) {
  process.stdout.write(text + '\n');
} else {
  if (!values.agent) fail('--publish needs --agent ID', 2);
  const waitMs = parseDuration(values.wait);
  if (waitMs === undefined) fail(`--wait: invalid duration "${values.wait}"`, 2);
  const root = `${values.prefix ? `${values.prefix}/` : ''}${values.agent}`;
  const client = mqtt.connect(values.publish, { reconnectPeriod: 0, connectTimeout: 10_000 });
  let timer: NodeJS.Timeout | undefined;
  client.on('error', (e) => fail(`${values.publish}: ${e.message}`));
  client.on('message', (_t, payload) => {
    let r: { id?: string; status?: string };
    try {
      r = JSON.parse(payload.toString());
    } catch {
      return;
    }
    if (r.id !== cmd.id) return;
    clearTimeout(timer);
    process.stdout.write(payload.toString() + '\n');
    process.exitCode = r.status === 'done' ? 0 : 1;
    client.end();
  });
  client.on('connect', () => {
    // Subscribe first, so the result cannot come before we listen. Never retained (it would re-fire).
    client.subscribe(`${root}/cmd/result`, { qos: 1 }, (err) => {
      if (err) fail(err.message);
      client.publish(`${root}/cmd`, text, { qos: 1, retain: false }, (e) => {
        if (e) fail(e.message);
        process.stderr.write(`published command ${cmd.id} to ${root}/cmd; waiting for ${root}/cmd/result\n`);
        timer = setTimeout(() => fail(`no result on ${root}/cmd/result within ${values.wait} (is the agent online, and commands on?)`), waitMs);
      });
    });
  });
}
