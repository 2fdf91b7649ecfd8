import { ROW_OVERHEAD, type OutboxStore } from './store.js';
import type { DropKind, OutboxCounters } from './stats.js';
import type { HeldBatch } from './held.js';

type Dropped = (kind: DropKind, n: number) => void;

export type OverflowPolicyName = 'drop-oldest' | 'drop-newest' | 'thin';

/**
 * What `buffer.overflow` does when a batch would take the outbox over its cap. Called inside the
 * write transaction for every batch about to be stored.
 */
export interface OverflowPolicy {
  readonly name: OverflowPolicyName;
  /** Make room for `need` bytes under `cap` if the policy allows; true = store the batch. */
  admit(need: number, cap: number, store: OutboxStore, dropped: Dropped): boolean;
  /** Acknowledged batches were deleted: space is free again. */
  freed(): void;
}

/** Delete whole oldest batches until the new one fits; false for a batch larger than the whole cap. */
function dropOldest(need: number, cap: number, store: OutboxStore, dropped: Dropped): boolean {
  if (store.accounted() + need <= cap) return true;
  store.deleteOldest(need, cap, (n) => dropped('overflow', n));
  return store.accounted() + need <= cap;
}

/** The oldest batches are deleted until the new one fits: the most recent `maxBytes` survive. */
class DropOldest implements OverflowPolicy {
  readonly name = 'drop-oldest';
  admit(need: number, cap: number, store: OutboxStore, dropped: Dropped): boolean {
    return dropOldest(need, cap, store, dropped);
  }
  freed(): void {}
}

/**
 * The new batch is dropped, and every later one until acknowledged batches free space: a smaller
 * batch slipping into the last bytes would leave isolated readings after a gap.
 */
class DropNewest implements OverflowPolicy {
  readonly name = 'drop-newest';
  private refusing = false;
  admit(need: number, cap: number, store: OutboxStore): boolean {
    if (!this.refusing && store.accounted() + need <= cap) return true;
    this.refusing = true;
    return false;
  }
  freed(): void {
    this.refusing = false;
  }
}

/**
 * Thin the oldest half of the stored payload to every other reading per series, up to 8 passes
 * (old data at 1/2, 1/4, ... resolution, the newest at full), then delete oldest as drop-oldest.
 */
class Thin implements OverflowPolicy {
  readonly name = 'thin';
  admit(need: number, cap: number, store: OutboxStore, dropped: Dropped): boolean {
    if (store.accounted() + need <= cap) return true;
    for (let pass = 0; pass < 8 && store.accounted() + need > cap; pass++) {
      const removed = store.thin();
      if (removed === 0) break;
      dropped('thinned', removed);
    }
    return dropOldest(need, cap, store, dropped);
  }
  freed(): void {}
}

export function overflowPolicy(name: OverflowPolicyName): OverflowPolicy {
  if (name === 'drop-newest') return new DropNewest();
  if (name === 'thin') return new Thin();
  return new DropOldest();
}

/**
 * Insert due batches (inside the write transaction), oldest first, each through the policy
 * against `cap`. Growth on disk, net of what the policy deleted, stays within `room`: the batches
 * from the first one that does not fit on are left held. Returns how many were handled (stored
 * or dropped), a prefix of `batches`.
 */
export function admit(
  policy: OverflowPolicy,
  store: OutboxStore,
  batches: readonly HeldBatch[],
  o: { cap: number; room: number; created: number; counters: OutboxCounters; dropped: Dropped },
): number {
  const base = store.accounted();
  let i = 0;
  for (; i < batches.length; i++) {
    const b = batches[i];
    const need = b.bytes + ROW_OVERHEAD;
    if (!policy.admit(need, o.cap, store, o.dropped)) {
      o.dropped('overflow', b.n);
      continue;
    }
    if (store.accounted() + need - base > o.room) break;
    store.insert(b, o.created);
    o.counters.batchesStored++;
    o.counters.readingsStored += b.n;
  }
  return i;
}
