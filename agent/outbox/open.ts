import type { OutboxStore } from './store.js';
import type { SeqSpace } from './seq.js';
import type { OutboxCounters } from './stats.js';

/**
 * An outbox file was just opened: take over its stream and seq (or, when batches were already
 * sent from memory, put its rows after them) and its drop counters. Returns the drop counters as
 * on disk (dropsKey form).
 */
export function adopt(store: OutboxStore, seq: SeqSpace, counters: OutboxCounters): string {
  const meta = store.readMeta();
  const { minKey, maxKey } = store.keys();
  if (seq.opened(meta, maxKey ?? 0) === 'rekey' && minKey !== null && minKey < seq.next) {
    // Batches were sent from memory meanwhile under keys 1, 2, ...: rows stored by an earlier
    // run go after them (their payloads keep their own stream and seq: resends dedupe).
    store.rekey(seq.next - minKey);
    seq.next = store.keys().maxKey! + 1;
  } else if (maxKey !== null) seq.next = Math.max(seq.next, maxKey + 1);
  const c = counters;
  c.droppedOverflow = Math.max(c.droppedOverflow, meta.droppedOverflow);
  c.droppedThinned = Math.max(c.droppedThinned, meta.droppedThinned);
  c.droppedMemory = Math.max(c.droppedMemory, meta.droppedMemory);
  return `${meta.droppedOverflow}/${meta.droppedThinned}/${meta.droppedMemory}`;
}
