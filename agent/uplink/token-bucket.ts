import { performance } from 'node:perf_hooks';

/** Byte-rate limiter for metered links (uplink.maxBytesPerSecond), on the monotonic clock. */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();
  constructor(private readonly ratePerSec: number, private readonly burst: number) {
    this.tokens = burst;
  }
  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.ratePerSec) / 1000);
    this.last = now;
  }
  take(n: number): boolean {
    this.refill();
    // A single item larger than the burst still passes once the bucket is full, else it would block forever.
    if (this.tokens >= n || (this.tokens >= this.burst && n > this.burst)) {
      this.tokens -= n;
      return true;
    }
    return false;
  }
  msUntil(n: number): number {
    this.refill();
    const want = Math.min(n, this.burst) - this.tokens;
    return Math.max(10, Math.ceil((want * 1000) / this.ratePerSec));
  }
}
