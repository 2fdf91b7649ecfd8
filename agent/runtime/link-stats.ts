import type { UplinkCounters } from '../uplink/mqtt-uplink.js';

/** Link counters since start, across every uplink a config swap replaced. */
export interface LinkTotals {
  connects: number;
  disconnects: number;
  batchesPublished: number;
  batchesAcked: number;
  bytesPublished: number;
  lastAckAt: number;
  lastLatencyMs: number;
}

/**
 * The one place link statistics come from, read by `status` and by metrics alike: counters of
 * retired uplinks are added to the live one's, so totals never go back to zero after a swap.
 */
export class LinkStats {
  private readonly retired: LinkTotals = { connects: 0, disconnects: 0, batchesPublished: 0, batchesAcked: 0, bytesPublished: 0, lastAckAt: 0, lastLatencyMs: 0 };

  constructor(private readonly live: () => UplinkCounters) {}

  /** An uplink is being replaced: keep what it counted. */
  retire(c: UplinkCounters): void {
    const r = this.retired;
    r.connects += c.connects;
    r.disconnects += c.disconnects;
    r.batchesPublished += c.batchesPublished;
    r.batchesAcked += c.batchesAcked;
    r.bytesPublished += c.bytesPublished;
    if (c.lastAckAt > r.lastAckAt) {
      r.lastAckAt = c.lastAckAt;
      r.lastLatencyMs = c.lastLatencyMs;
    }
  }

  totals(): LinkTotals {
    const r = this.retired;
    const c = this.live();
    const liveAcked = c.lastAckAt >= r.lastAckAt && c.lastAckAt > 0;
    return {
      connects: r.connects + c.connects,
      disconnects: r.disconnects + c.disconnects,
      batchesPublished: r.batchesPublished + c.batchesPublished,
      batchesAcked: r.batchesAcked + c.batchesAcked,
      bytesPublished: r.bytesPublished + c.bytesPublished,
      lastAckAt: liveAcked ? c.lastAckAt : r.lastAckAt,
      lastLatencyMs: liveAcked ? c.lastLatencyMs : r.lastLatencyMs,
    };
  }
}
