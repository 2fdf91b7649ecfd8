/** A batch cut from pending readings and not yet on disk (or not yet acknowledged). */
export interface HeldBatch {
  seq: number;
  stream: string;
  n: number;
  ts: number;
  firstTs: number;
  payload: string;
  bytes: number;
  /** Flush counter when cut: due for the disk one flush later (deferWrites). */
  tick: number;
}

/**
 * Batches cut but not yet on disk: normally for one flush, but while the disk refuses writes they
 * wait here (bounded by buffer.memoryMaxBytes, oldest dropped beyond) and the uplink sends them
 * from here, so a broken SD card does not stop data reaching the broker.
 */
export class HeldQueue {
  batches: HeldBatch[] = [];
  bytes = 0;

  push(b: HeldBatch): void {
    this.batches.push(b);
    this.bytes += b.bytes;
  }

  get length(): number {
    return this.batches.length;
  }

  readings(): number {
    let n = 0;
    for (const b of this.batches) n += b.n;
    return n;
  }

  /** Acknowledged while still held: it never needs the disk. */
  remove(seq: number): boolean {
    const i = this.batches.findIndex((b) => b.seq === seq);
    if (i < 0) return false;
    this.bytes -= this.batches[i].bytes;
    this.batches.splice(i, 1);
    return true;
  }

  /** The given batches are on disk now. */
  written(done: readonly HeldBatch[]): void {
    if (done.length === 0) return;
    if (done.length === this.batches.length) {
      this.batches = [];
      this.bytes = 0;
      return;
    }
    const set = new Set(done);
    this.batches = this.batches.filter((b) => !set.has(b));
    this.bytes = this.batches.reduce((n, b) => n + b.bytes, 0);
  }

  /** Move the batches from seq `from` on into another stream (payload re-encoded, same seq); returns how many. */
  restream(from: number, stream: string, encode: (payload: string) => string): number {
    let n = 0;
    for (const b of this.batches) {
      if (b.seq < from) continue;
      b.stream = stream;
      b.payload = encode(b.payload);
      this.bytes -= b.bytes;
      b.bytes = Buffer.byteLength(b.payload);
      this.bytes += b.bytes;
      n++;
    }
    return n;
  }

  /** Drop the oldest beyond `limit` bytes (always keeping the newest); returns them. */
  bound(limit: number, dropped: (b: HeldBatch) => void): void {
    while (this.bytes > limit && this.batches.length > 1) {
      const b = this.batches.shift()!;
      this.bytes -= b.bytes;
      dropped(b);
    }
  }
}
