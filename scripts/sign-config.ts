// Sign a config for a remote push (SPEC "MQTT", config/set) and print or publish the payload.
//
//   node --import tsx scripts/sign-config.ts --key signing.pem --version 7 config.yaml
//   node --import tsx scripts/sign-config.ts --key signing.pem --version 7 config.yaml \
//        --publish mqtts://broker:8883 --agent pump-station-7 [--prefix edge] [--retain]
//   ... --publish mqtts://broker:8883 --group line-a     # every board with line-a in remoteConfig.groups
//   node --import tsx scripts/sign-config.ts --keygen ./keys   # writes signing.pem + signing.pub
//
// The signature is ed25519 over the JCS canonical JSON of {"config": ..., "version": N}.
// Local-only keys (agent.id, agent.dataDir, control.*, uplink.mqtt.clientId) are best left out: each board keeps its own.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import mqtt from 'mqtt';
import { sign } from '../agent/control/signature.js';
import { validate } from '../agent/config/load.js';
import { formatError } from '../agent/config/errors.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    key: { type: 'string' },
    version: { type: 'string' },
    keygen: { type: 'string' },
    publish: { type: 'string' },
    agent: { type: 'string' },
    group: { type: 'string' },
    prefix: { type: 'string', default: 'edge' },
    retain: { type: 'boolean', default: false },
    unsigned: { type: 'boolean', default: false },
  },
});

function fail(msg: string, code = 1): never {
  process.stderr.write(`sign-config: ${msg}\n`);
  process.exit(code);
}

if (values.keygen) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  fs.mkdirSync(values.keygen, { recursive: true });
  const priv = path.join(values.keygen, 'signing.pem');
  const pub = path.join(values.keygen, 'signing.pub');
  fs.writeFileSync(priv, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  fs.writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }));
  process.stdout.write(`${priv} (keep secret)\n${pub} (control.remoteConfig.publicKey on the boards)\n`);
  process.exit(0);
}

const file = positionals[0];
const version = Number(values.version);
if (!file || !Number.isSafeInteger(version) || version < 1) fail('usage: sign-config --key PRIVATE.pem --version N CONFIG.yaml [--publish URL --agent ID | --group G]', 2);
if (!values.key && !values.unsigned) fail('--key PRIVATE.pem is required (or --unsigned for boards without a publicKey)', 2);

const config = parseYaml(fs.readFileSync(file, 'utf8')) as unknown;
if (config === null || typeof config !== 'object' || Array.isArray(config)) fail(`${file}: expected a mapping`);
// Catch mistakes here rather than on hundreds of boards (they validate again).
const res = validate(config);
if (!res.ok) fail(`${file} does not validate:\n${res.errors.map((e) => `  ${formatError(e)}`).join('\n')}`);

const payload: Record<string, unknown> = { version, config };
if (values.key) payload.signature = sign(version, config, fs.readFileSync(values.key));
const text = JSON.stringify(payload);

if (!values.publish) {
  process.stdout.write(text + '\n');
} else {
  if (!values.agent === !values.group) fail('--publish needs --agent ID or --group G', 2);
  // Group pushes share the version space of per-board pushes: each board reports on its own config/state.
  const topic = `${values.prefix ? `${values.prefix}/` : ''}${values.group ? `groups/${values.group}` : values.agent}/config/set`;
  const client = mqtt.connect(values.publish, { reconnectPeriod: 0, connectTimeout: 10_000 });
  client.on('error', (e) => fail(`${values.publish}: ${e.message}`));
  client.on('connect', () => {
    client.publish(topic, text, { qos: 1, retain: values.retain }, (err) => {
      if (err) fail(err.message);
      const watch = values.group ? `${values.prefix ? `${values.prefix}/` : ''}+/config/state` : topic.replace(/set$/, 'state');
      process.stdout.write(`published version ${version} to ${topic} (${text.length} bytes); watch ${watch}\n`);
      client.end();
    });
  });
}
