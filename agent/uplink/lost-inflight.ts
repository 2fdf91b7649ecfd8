/**
 * When a connection dies (keepalive timeout, socket error), mqtt.js fails the callbacks of the
 * publishes it had in flight BEFORE it emits `close`. The uplink forgets those at once (so they
 * are sent again), which left the disconnect log saying `inflight: 0` although 16 batches were
 * waiting. This keeps count of them per connection so the log tells the truth.
 */
export class LostInflight {
  private count = 0;
  private from = Infinity;

  /** A publish of this connection was failed by mqtt.js (not acknowledged). */
  failed(seq: number): void {
    this.count++;
    if (seq < this.from) this.from = seq;
  }

  /** What `close` found still in flight, plus what was failed before it; resets for the next connection. */
  add(requeued: { count: number; from: number | undefined }): { count: number; from: number | undefined } {
    const from = Math.min(this.from, requeued.from ?? Infinity);
    const out = { count: this.count + requeued.count, from: from === Infinity ? undefined : from };
    this.reset();
    return out;
  }

  reset(): void {
    this.count = 0;
    this.from = Infinity;
  }
}
