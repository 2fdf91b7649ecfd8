import { randomBytes } from 'node:crypto';

/** Seqs reserved per write of meta.next_seq: a restart skips at most this many (gaps are harmless). */
export const SEQ_RESERVE = 10_000;

/** A short random stream id (SPEC "Batch"): 8 base32 characters, 40 random bits. */
export function mintStream(): string {
  const b = randomBytes(5);
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v.toString(32).padStart(8, '0');
}

/**
 * seq and stream (SPEC "Batch", "Operation"). Within one stream seq strictly increases, whatever
 * the disk and the clock did: a seq is handed to the uplink only once it is reserved on disk
 * together with its stream (meta.stream + meta.next_seq, one transaction), or while the stream
 * has never been on disk at all (then a later reservation starts above everything it handed out).
 * When a reservation fails, the stream ends: a fresh one is minted and the seqs not yet handed
 * out move into it. The wall clock plays no part, so a board booting with an old clock cannot
 * hand out lower seqs.
 */
export class SeqSpace {
  stream = mintStream();
  /** Next seq to hand out. Also the outbox's row key: keys and seqs stay in one order. */
  next = 1;
  /** The stream and meta.next_seq as on disk: every seq below persistedNext may have been handed out. */
  persistedStream = '';
  persistedNext = 0;
  /** A seq of the current stream was cut; until then an opened outbox's stream is simply adopted. */
  used = false;

  take(): number {
    this.used = true;
    return this.next++;
  }

  /** May a batch of `stream`/`seq` leave (be published)? Not while its seq is beyond the durable reservation. */
  publishable(stream: string, seq: number): boolean {
    return stream !== this.persistedStream || seq < this.persistedNext;
  }

  /** Is a meta write due (a new stream, or seqs past the reservation)? */
  due(): boolean {
    return this.stream !== this.persistedStream || this.next > this.persistedNext;
  }

  /** What to write: reserve ahead, so meta is rewritten once per SEQ_RESERVE batches. */
  reservation(): { stream: string; nextSeq: number } {
    return { stream: this.stream, nextSeq: this.next + SEQ_RESERVE };
  }

  committed(r: { stream: string; nextSeq: number }): void {
    this.persistedStream = r.stream;
    this.persistedNext = r.nextSeq;
  }

  /**
   * The reservation could not be written. If seqs of the durable stream were cut past its
   * reservation, that stream ends here: a new one is minted (returned) and the caller moves the
   * unpublished batches at or above `from` into it, keeping their seq (row keys stay in order).
   */
  failed(): { stream: string; from: number } | undefined {
    if (this.stream !== this.persistedStream || this.next <= this.persistedNext) return undefined;
    this.stream = mintStream();
    return { stream: this.stream, from: this.persistedNext };
  }

  /**
   * An outbox was opened holding `meta` and rows keyed up to `maxKey`. Nothing handed out yet:
   * continue its stream (or, for a new outbox or one written before streams, the minted one) after
   * its reservation. Otherwise the memory stream goes on and the caller re-keys the stored rows
   * from `next` up, above everything handed out (their payloads keep their own stream and seq).
   */
  opened(meta: { stream?: string; nextSeq?: number }, maxKey: number): 'adopted' | 'rekey' {
    if (!this.used) {
      if (meta.stream) this.stream = meta.stream;
      this.persistedStream = meta.stream ?? '';
      this.persistedNext = meta.nextSeq ?? 0;
      this.next = Math.max(this.next, this.persistedNext || 1, maxKey + 1);
      return 'adopted';
    }
    return 'rekey';
  }
}
