import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics } from '../../../agent/control/metrics.js';
import type { Agent } from '../../../agent/runtime/agent.js';
import type { RemoteConfig } from '../../../agent/control/remote-config.js';

/** Just the parts health() and the collectors read. */
function fakeAgent(link: string, heldBatches: number, states: string[], writable = heldBatches === 0) {
  return {
    uplink: { linkState: link },
    linkStats: { totals: () => ({ connects: 0, disconnects: 0, batchesPublished: 0, batchesAcked: 0, bytesPublished: 0, lastAckAt: 0, lastLatencyMs: 0 }) },
    outbox: { stats: () => ({ writable, heldBatches, rows: 0, readings: 0, payloadBytes: 0, fileBytes: 0, capBytes: 1, droppedOverflow: 0, droppedThinned: 0, droppedMemory: 0, writeErrors: 0 }) },
    sources: states.map((s, i) => ({ id: `s${i}`, currentState: s, readingCount: 0, errorCounts: {}, status: () => ({ lastReadingAt: null }) })),
    readingsOut: new Map(), stageDrops: new Map(), info: { version: 0, origin: 'file', hash: '' },
  } as unknown as Agent;
}
const remote = { counts: { applied: 0, rejected: 0, 'rolled-back': 0 } } as unknown as RemoteConfig;

test('/healthz rule: the outbox takes writes and not every source is down', () => {
  const cases: [string, number, string[], boolean][] = [
    ['connected', 0, ['ok', 'down'], true],
    ['disconnected', 0, ['ok'], true], // broker outage: the outbox holds the data
    ['disconnected', 3, ['ok'], false], // and the disk refuses writes: nowhere to go
    ['connected', 3, ['ok'], false], // data flows from memory, but a restart or an outage would lose it (issue 12)
    ['connected', 0, ['down', 'down'], false],
    ['connected', 0, ['backing-off', 'down'], true],
    ['connected', 0, [], true],
  ];
  for (const [link, held, states, want] of cases) {
    const m = new Metrics(fakeAgent(link, held, states), remote);
    const h = m.health();
    m.close();
    assert.equal(h.healthy, want, JSON.stringify({ link, held, states }));
  }
});

test('/healthz: an outbox that cannot be opened is degraded even with nothing held (every batch sent from memory)', () => {
  const m = new Metrics(fakeAgent('connected', 0, ['ok'], false), remote);
  const h = m.health();
  m.close();
  assert.equal(h.healthy, false);
  assert.equal(h.outboxWritable, false);
});
