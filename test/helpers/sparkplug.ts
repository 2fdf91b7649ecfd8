import { spawnSync } from 'node:child_process';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { REPO } from './daemon.js';

/**
 * An independent Sparkplug B decoder for the tests: the vendored Tahu .proto compiled by protoc
 * (Debian protobuf-compiler), never the daemon's protobufjs encoder. protoc prints the text
 * format; `parseTextFormat` turns it into plain objects.
 */
const PROTO_DIR = path.join(REPO, 'agent/uplink/sparkplug');

export interface DecodedMetric {
  name?: string;
  alias?: number;
  timestamp?: number;
  datatype?: number;
  is_historical?: boolean;
  is_null?: boolean;
  int_value?: number;
  long_value?: number;
  float_value?: number;
  double_value?: number;
  boolean_value?: boolean;
  string_value?: string;
  properties?: { keys: string[]; values: { type: number; int_value?: number }[] };
}

export interface DecodedPayload {
  timestamp?: number;
  seq?: number;
  metrics: DecodedMetric[];
}

export function protocDecode(buf: Buffer): DecodedPayload {
  const r = spawnSync('protoc', ['--decode=org.eclipse.tahu.protobuf.Payload', `--proto_path=${PROTO_DIR}`, 'sparkplug_b.proto'], { input: buf, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`protoc --decode failed (${r.status}): ${r.stderr}`);
  const doc = parseTextFormat(r.stdout) as unknown as DecodedPayload;
  doc.metrics ??= [];
  return doc;
}

/** Fields that are repeated in the schema: always arrays. */
const REPEATED = new Set(['metrics', 'keys', 'values']);

/** Protobuf text format (what protoc --decode prints) to objects; numbers as JS numbers. */
export function parseTextFormat(text: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  const stack: Record<string, unknown>[] = [root];
  const put = (o: Record<string, unknown>, k: string, v: unknown) => {
    if (REPEATED.has(k)) ((o[k] ??= []) as unknown[]).push(v);
    else o[k] = v;
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    if (line === '}') {
      stack.pop();
      continue;
    }
    const open = /^(\w+) \{$/.exec(line);
    if (open) {
      const child: Record<string, unknown> = {};
      put(stack.at(-1)!, open[1], child);
      stack.push(child);
      continue;
    }
    const kv = /^(\w+): (.*)$/.exec(line);
    if (!kv) throw new Error(`unexpected protoc output line: ${line}`);
    const v = kv[2];
    const value = v.startsWith('"') ? JSON.parse(v) : v === 'true' ? true : v === 'false' ? false : Number(v);
    put(stack.at(-1)!, kv[1], value);
  }
  return root;
}

export interface SpMessage {
  topic: string;
  type: string;
  device?: string;
  raw: Buffer;
  /** Arrival order over all collected messages. */
  i: number;
}

/** A stand-in host: subscribes to spBv1.0/{group}/#, keeps raw messages; decode with protocDecode. */
export async function sparkplugHost(url: string, group: string): Promise<{ client: MqttClient; messages: SpMessage[]; decode(m: SpMessage): DecodedPayload; close(): Promise<void> }> {
  const client = mqtt.connect(url, { reconnectPeriod: 200 });
  const messages: SpMessage[] = [];
  const cache = new Map<SpMessage, DecodedPayload>();
  client.on('message', (topic, payload) => {
    const parts = topic.split('/');
    messages.push({ topic, type: parts[2], device: parts[4], raw: payload, i: messages.length });
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => client.subscribe(`spBv1.0/${group}/#`, { qos: 1 }, (e) => (e ? reject(e) : resolve())));
    client.once('error', reject);
  });
  return {
    client,
    messages,
    decode(m) {
      let d = cache.get(m);
      if (!d) cache.set(m, (d = protocDecode(m.raw)));
      return d;
    },
    close: () => new Promise<void>((r) => client.end(true, {}, () => r())),
  };
}

/** The bdSeq metric of an NBIRTH or NDEATH. */
export function bdSeqOf(p: DecodedPayload): number | undefined {
  return p.metrics.find((m) => m.name === 'bdSeq')?.long_value;
}

/** A payload from protobuf text format, encoded by protoc (commands a host would send). */
export function protocEncode(text: string): Buffer {
  const r = spawnSync('protoc', ['--encode=org.eclipse.tahu.protobuf.Payload', `--proto_path=${PROTO_DIR}`, 'sparkplug_b.proto'], { input: text });
  if (r.status !== 0) throw new Error(`protoc --encode failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
