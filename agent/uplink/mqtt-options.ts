import fs from 'node:fs';
import type { IClientOptions } from 'mqtt';
import type { UplinkConfig } from './schema.js';
import type { Will } from './profile.js';

/** Builds mqtt.js options from config; reads secrets from files/env here and nowhere else. */
export function mqttClientOptions(cfg: UplinkConfig['mqtt'], agentId: string, will: Will): IClientOptions {
  const read = (f: string | undefined) => (f ? fs.readFileSync(f) : undefined);
  let password = cfg.password ?? process.env.EDGE_AGENT_MQTT_PASSWORD;
  if (cfg.passwordFile) password = fs.readFileSync(cfg.passwordFile, 'utf8').replace(/\r?\n$/, '');
  return {
    clientId: cfg.clientId ?? `edge-agent-${agentId}`,
    username: cfg.username,
    password,
    ca: read(cfg.ca),
    cert: read(cfg.cert),
    key: read(cfg.key),
    rejectUnauthorized: !cfg.insecure,
    keepalive: Math.max(1, Math.round(cfg.keepalive / 1000)),
    connectTimeout: cfg.connectTimeout,
    // We drive reconnects ourselves (jittered backoff, one log line per state change).
    reconnectPeriod: 0,
    clean: true,
    protocolVersion: 4,
    // Nothing may queue inside mqtt.js while offline: the outbox is the queue.
    queueQoSZero: false,
    // mqtt-packet's number cache is 65,536 two-byte Buffers, about 6 MiB of heap, to save one
    // 2-byte allocation per packet id: a bad trade on a 512 MiB board at a few publishes a second.
    writeCache: false,
    will: { ...will },
  };
}
