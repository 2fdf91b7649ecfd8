/**
 * Exponential backoff with full jitter: a fleet of boards that lost the same broker must not
 * all come back in the same second. Delay = random(0, min(max, base * 2^attempt)), at least `floor`.
 */
export class Backoff {
  private attempt = 0;
  constructor(private readonly baseMs: number, private readonly maxMs: number, private readonly random: () => number = Math.random, private readonly floorMs = 100) {}
  next(): number {
    const ceiling = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.max(this.floorMs, Math.floor(this.random() * ceiling));
  }
  reset(): void {
    this.attempt = 0;
  }
  get attempts(): number {
    return this.attempt;
  }
}
