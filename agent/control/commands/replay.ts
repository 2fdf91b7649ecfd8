import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomicAsync } from '../../../core/atomic-write.js';
import { MAX_AHEAD_MS } from './envelope.js';

export const REPLAY_FILE = 'command-ids.json';
/** Ids kept at once; beyond it new commands are refused rather than old ids forgotten early. */
export const MAX_IDS = 10_000;

/**
 * Command ids already seen, persisted in the data dir so the same id executes once, also across
 * a restart (SPEC "Commands"). An id is kept until a command carrying it could no longer pass the
 * freshness check (its ts, or when it was seen, plus maxAge plus the 5 s skew), so the file stays
 * small. Saves are atomic (temp file, fsync, rename) and serialised.
 */
export class ReplayStore {
  readonly file: string;
  private readonly ids = new Map<string, number>();
  private chain: Promise<void> = Promise.resolve();
  /**
   * Set when the file could not be read: ids seen before this wall time are unknown, so commands
   * issued before it are refused (they could be replays) until they age out anyway.
   */
  notBefore = 0;
  loadError: string | undefined;

  constructor(dataDir: string, private readonly maxAgeMs: number) {
    this.file = path.join(dataDir, REPLAY_FILE);
  }

  load(now: number): void {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      this.fail(now, `cannot read ${this.file}: ${(e as Error).message}`);
      return;
    }
    try {
      const doc = JSON.parse(text) as { ids?: Record<string, number> };
      if (typeof doc.ids !== 'object' || doc.ids === null) throw new Error('no "ids" object');
      for (const [id, exp] of Object.entries(doc.ids)) if (Number.isFinite(exp) && exp > now) this.ids.set(id, exp);
    } catch (e) {
      this.fail(now, `${this.file}: unreadable (${(e as Error).message})`);
    }
  }

  private fail(now: number, why: string): void {
    this.loadError = why;
    this.notBefore = now;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  get size(): number {
    return this.ids.size;
  }

  /** Records an id and persists the set; resolves once it is on disk (execute only after that). */
  record(id: string, ts: number, now: number): Promise<void> {
    for (const [k, exp] of this.ids) if (exp <= now) this.ids.delete(k);
    if (this.ids.size >= MAX_IDS) return Promise.reject(new Error(`more than ${MAX_IDS} command ids within maxAge; refusing more until they expire`));
    this.ids.set(id, Math.max(ts, now) + this.maxAgeMs + MAX_AHEAD_MS);
    const doc = JSON.stringify({ ids: Object.fromEntries(this.ids) });
    const run = this.chain.then(() => writeFileAtomicAsync(this.file, doc + '\n'));
    this.chain = run.catch(() => {});
    return run.catch((e) => {
      // Not on disk: forget it in memory too, so memory and file agree; the caller refuses the command.
      this.ids.delete(id);
      throw e;
    });
  }
}
