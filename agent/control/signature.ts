import crypto from 'node:crypto';
import fs from 'node:fs';
import { canonicalJson } from './jcs.js';

/** The bytes a config push signs (SPEC "MQTT"): JCS of {"config": ..., "version": N}, UTF-8. */
export function signedBytes(version: number, config: unknown): Buffer {
  return Buffer.from(canonicalJson({ config, version }), 'utf8');
}

export function sign(version: number, config: unknown, privateKeyPem: string | Buffer): string {
  return signBytes(signedBytes(version, config), privateKeyPem);
}

/** ed25519 signature (base64) of any bytes: configs here, commands in commands/envelope.ts. */
export function signBytes(bytes: Buffer, privateKeyPem: string | Buffer): string {
  const key = crypto.createPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`expected an ed25519 private key, got ${key.asymmetricKeyType}`);
  return crypto.sign(null, bytes, key).toString('base64');
}

/**
 * Undefined when `signature` is a valid ed25519 signature of `bytes` by the key in `publicKeyFile`,
 * else why not (`keyName` is the config key naming the file, for the message).
 */
export function verifyBytes(bytes: Buffer, signature: unknown, publicKeyFile: string, keyName: string): string | undefined {
  if (signature === undefined) return `signature: required (${keyName} is set; unsigned messages are rejected)`;
  if (typeof signature !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) return 'signature: expected base64';
  let key: crypto.KeyObject;
  try {
    key = crypto.createPublicKey(fs.readFileSync(publicKeyFile));
  } catch (e) {
    return `signature: cannot read public key ${publicKeyFile}: ${(e as Error).message}`;
  }
  if (key.asymmetricKeyType !== 'ed25519') return `signature: ${publicKeyFile} is not an ed25519 public key (${key.asymmetricKeyType})`;
  const sig = Buffer.from(signature, 'base64');
  if (sig.length !== 64) return `signature: expected 64 bytes, got ${sig.length}`;
  return crypto.verify(null, bytes, key, sig) ? undefined : `signature: does not verify with ${keyName}`;
}

/** Returns undefined when the signature verifies, else why not. The key file is read per push (rotation without restart). */
export function verifySignature(version: number, config: unknown, signature: unknown, publicKeyFile: string): string | undefined {
  if (signature === undefined) return 'signature: required (control.remoteConfig.publicKey is set; unsigned pushes are rejected)';
  return verifyBytes(signedBytes(version, config), signature, publicKeyFile, 'control.remoteConfig.publicKey');
}

export function configHash(config: unknown): string {
  return crypto.createHash('sha256').update(canonicalJson(config)).digest('hex');
}
