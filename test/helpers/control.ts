import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import mqtt from 'mqtt';
import { BUNDLE } from './daemon.js';
import { sign } from '../../agent/control/signature.js';

/** A fresh ed25519 pair; the public key written where control.remoteConfig.publicKey can point. */
export function signingKeys(dir: string) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  const pub = path.join(dir, 'signing.pub');
  fs.writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }));
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  return { pub, pem, sign: (version: number, config: unknown) => sign(version, config, pem) };
}

/** Publish one message (QoS 1) and disconnect. */
export async function publishOnce(url: string, topic: string, payload: string | Buffer, retain = false): Promise<void> {
  const c = mqtt.connect(url, { reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    c.once('error', reject);
    c.once('connect', () => c.publish(topic, payload, { qos: 1, retain }, (e) => (e ? reject(e) : resolve())));
  });
  await new Promise<void>((r) => c.end(false, {}, () => r()));
}

/** Run the built CLI; resolves with exit code and output (never rejects on a non-zero exit). */
export function cli(args: string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BUNDLE, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export async function httpGet(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url);
  return { status: res.status, text: await res.text() };
}
