import type { Reading } from '../../core/reading.js';
import type { BatchEncoder } from './encode.js';
import type { HeldQueue } from './held.js';
import type { SeqSpace } from './seq.js';

/** Pending fragment bytes that trigger an early cut into batches (see add()). */
const PENDING_CUT_BYTES = 1024 * 1024;

/**
 * Readings are encoded once, on arrival, into JSON fragments held here; `cut()` turns them into
 * batches of at most batch.maxReadings / batch.maxBytes, each taking the next seq of the stream.
 */
export class Batcher {
  private pending: string[] = [];
  private pendingBytes = 0;
  private firstTs = 0;

  constructor(
    private readonly enc: BatchEncoder,
    private readonly seq: SeqSpace,
    private readonly held: HeldQueue,
    private readonly now: () => number,
    public limits: { maxReadings: number; maxBytes: number },
  ) {}

  get pendingReadings(): number {
    return this.pending.length;
  }

  /** Hot path: encode once and hold until the next cut. */
  add(r: Reading, tick: number): void {
    const f = this.enc.reading(r);
    if (this.pending.length === 0) this.firstTs = r.ts;
    this.pending.push(f);
    this.pendingBytes += typeof r.value === 'string' ? Buffer.byteLength(f) : f.length;
    // Under heavy load, cut batches early: one payload string per batch instead of thousands of
    // small fragments keeps the heap bounded (a 96 MiB heap cap otherwise overflows at ~400k
    // readings/s). No disk write here: the next flush writes them as usual.
    if (this.pendingBytes >= PENDING_CUT_BYTES) this.cut(tick);
  }

  cut(tick: number): void {
    const p = this.pending;
    if (p.length === 0) return;
    const ts = this.now();
    const { maxReadings, maxBytes } = this.limits;
    const stream = this.seq.stream;
    const overhead = this.enc.overhead(stream);
    let from = 0;
    let bytes = 0;
    for (let i = 0; i <= p.length; i++) {
      const fb = i < p.length ? p[i].length + 1 : 0;
      const full = i - from >= maxReadings || (i > from && bytes + fb + overhead > maxBytes);
      if (i === p.length || full) {
        if (i > from) {
          const seq = this.seq.take();
          const payload = this.enc.batch(stream, seq, ts, p, from, i);
          this.held.push({ seq, stream, n: i - from, ts, firstTs: this.firstTs, payload, bytes: Buffer.byteLength(payload), tick });
        }
        from = i;
        bytes = 0;
      }
      bytes += fb;
    }
    this.pending = [];
    this.pendingBytes = 0;
  }
}
