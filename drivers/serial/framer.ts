/**
 * Splits a byte stream into lines on a delimiter (one or more bytes).
 *
 * Bytes are copied into one fixed buffer sized for the longest allowed line, so a line split
 * across reads, or a two-byte delimiter split across reads, is handled the same way as a
 * whole one, and memory stays bounded whatever the device sends. A line longer than
 * `maxLineLength` is dropped up to the next delimiter and reported once via `overlong`, as
 * soon as it is known to be too long (so a wrong delimiter setting shows up at once, not
 * never).
 */
export interface FramerSink {
  /** One line without its delimiter: bytes `buf[start, end)`, valid only during the call. */
  line(buf: Buffer, start: number, end: number): void;
  /** A line longer than the limit is being dropped; `bytes` is how much of it was seen so far. */
  overlong(bytes: number): void;
}

export class LineFramer {
  private readonly delim: Buffer;
  private readonly buf: Buffer;
  private len = 0;
  /** Inside an over-long line: drop bytes until the next delimiter. */
  private discarding = false;
  private discarded = 0;
  /** With a bare "\n" delimiter a trailing "\r" is stripped, so CRLF devices just work. */
  private readonly stripCR: boolean;

  constructor(delimiter: Buffer, private readonly maxLineLength: number, private readonly sink: FramerSink) {
    if (delimiter.length === 0) throw new Error('delimiter must not be empty');
    this.delim = delimiter;
    this.stripCR = delimiter.length === 1 && delimiter[0] === 0x0a;
    // Room for the longest line plus its delimiter, and slack so one read rarely needs two passes.
    this.buf = Buffer.allocUnsafe(maxLineLength + delimiter.length + 4096);
  }

  /** Forget any partial line (after the port is reopened the old tail is meaningless). */
  reset(): void {
    this.len = 0;
    this.discarding = false;
    this.discarded = 0;
  }

  /** Bytes held that do not yet form a line. */
  get pending(): number {
    return this.len;
  }

  push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(chunk.length - off, this.buf.length - this.len);
      chunk.copy(this.buf, this.len, off, off + n);
      // A delimiter may straddle the previous read: rescan its last (d-1) bytes.
      const from = Math.max(0, this.len - (this.delim.length - 1));
      this.len += n;
      off += n;
      this.scan(from);
    }
  }

  private scan(from: number): void {
    const { buf, delim } = this;
    const d = delim.length;
    const len = this.len;
    let start = 0;
    for (;;) {
      const i = buf.indexOf(delim, from);
      if (i === -1 || i + d > len) break;
      if (this.discarding) {
        // Already reported when discarding began; this delimiter ends it.
        this.discarding = false;
        this.discarded = 0;
      } else if (i - start > this.maxLineLength) {
        this.sink.overlong(i - start);
      } else {
        let end = i;
        if (this.stripCR && end > start && buf[end - 1] === 0x0d) end--;
        this.sink.line(buf, start, end);
      }
      start = from = i + d;
    }
    let rest = len - start;
    if (!this.discarding && rest > this.maxLineLength + d - 1) {
      this.discarding = true;
      this.discarded = 0;
      this.sink.overlong(rest);
    }
    if (this.discarding && rest > d - 1) {
      // Keep only what could be the start of a delimiter.
      const drop = rest - (d - 1);
      this.discarded += drop;
      start += drop;
      rest -= drop;
    }
    if (start > 0) buf.copyWithin(0, start, len);
    this.len = rest;
  }
}
