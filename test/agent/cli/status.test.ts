import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatStatus } from '../../../agent/cli/status.js';

const doc = (uplink?: Record<string, unknown>) => ({
  agent: 'n1', version: '0.1.0', pid: 1, startedAt: 1, config: { version: 0, origin: 'file', hash: '' }, configState: null,
  link: { state: 'connected', since: 1, inflight: 0, connects: 1, disconnects: 0, batchesAcked: 0, lastLatencyMs: 0 },
  outbox: { rows: 0, readings: 0, payloadBytes: 0, fileBytes: 0, capBytes: 1, oldestTs: null, droppedOverflow: 0, droppedThinned: 0, droppedMemory: 0 },
  sources: [], uplink,
});

test('status shows the Sparkplug session: bdSeq, seq, primary host state', () => {
  const out = formatStatus(doc({ profile: 'sparkplug-b', groupId: 'plant-1', edgeNodeId: 'n1', bdSeq: 7, seq: 42, born: false, devicesBorn: 0, dcmdRejected: 2, primaryHost: { id: 'scada-1', state: 'offline' } }) as never);
  assert.match(out, /^sparkplug +group plant-1, node n1, bdSeq 7, next seq 42, not born, 0 devices, primary host scada-1 offline, DCMD rejected 2$/m);
  assert.doesNotMatch(formatStatus(doc({ profile: 'json', encoding: 'json' }) as never), /sparkplug/);
});
