/**
 * The seam between the outbox (which keeps batches) and an uplink (which sends them): the uplink
 * sees only this, so a second store or a second payload profile needs no edit on the other side.
 */
export interface StoredBatch {
  seq: number;
  /** Readings in the batch. */
  n: number;
  /** The encoded batch document, as the outbox keeps it. */
  payload: Buffer;
}

export interface BatchSource {
  /** Up to `limit` batches with seq > afterSeq, oldest first. */
  next(afterSeq: number, limit: number): StoredBatch[];
  /** The broker acknowledged batch `seq` holding `n` readings: it may leave the store. */
  ack(seq: number, n: number): void;
}
