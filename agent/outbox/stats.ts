import type { Logger } from '../../core/log.js';

export interface OutboxCounters {
  readingsIn: number;
  readingsStored: number;
  readingsSent: number;
  batchesStored: number;
  batchesAcked: number;
  droppedOverflow: number;
  droppedThinned: number;
  droppedMemory: number;
  writeErrors: number;
}

export type DropKind = 'overflow' | 'thinned' | 'memory';

export function newCounters(): OutboxCounters {
  return { readingsIn: 0, readingsStored: 0, readingsSent: 0, batchesStored: 0, batchesAcked: 0, droppedOverflow: 0, droppedThinned: 0, droppedMemory: 0, writeErrors: 0 };
}

/** The drop counters as one comparable value: meta is rewritten only when it changes. */
export function dropsKey(c: OutboxCounters): string {
  return `${c.droppedOverflow}/${c.droppedThinned}/${c.droppedMemory}`;
}

/** Counts dropped readings per cause and logs them at most once per 30 s with the count since the last line. */
export class DropLog {
  private last = -Infinity;
  private since = 0;

  constructor(
    private readonly counters: OutboxCounters,
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly context: () => { policy: string; capBytes: number },
  ) {}

  dropped(kind: DropKind, n: number): void {
    const c = this.counters;
    if (kind === 'overflow') c.droppedOverflow += n;
    else if (kind === 'thinned') c.droppedThinned += n;
    else c.droppedMemory += n;
    this.since += n;
    const t = this.now();
    if (t - this.last >= 30_000) {
      this.log.warn({ dropped: this.since, reason: kind, ...this.context() }, 'outbox full: readings dropped');
      this.last = t;
      this.since = 0;
    }
  }
}
