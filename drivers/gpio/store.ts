import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomicAsync } from '../../core/atomic-write.js';

/** What a counter source persists: raw pulse totals by pin name. */
export interface CounterState {
  version: 1;
  source: string;
  pins: Record<string, { pulses: number; line: number }>;
  savedAt: number;
}

export class CounterStateError extends Error {}

/**
 * Pulse totals of one source in `<dataDir>/gpio/<sourceId>.json`. Written whole to a temp file,
 * fsynced, renamed over the old one and the directory fsynced: after a power cut the file is the
 * old or the new version, never a torn one.
 */
export class CounterStore {
  readonly file: string;
  private writing: Promise<void> | undefined;

  constructor(dataDir: string, private readonly sourceId: string) {
    this.file = path.join(dataDir, 'gpio', `${sourceId}.json`);
  }

  /** Saved totals; empty when there is no file yet. A corrupt file throws CounterStateError. */
  load(): Record<string, number> {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new CounterStateError(`cannot read pulse totals ${this.file}: ${(e as Error).message}`);
    }
    let doc: CounterState;
    try {
      doc = JSON.parse(text) as CounterState;
    } catch (e) {
      throw new CounterStateError(`pulse totals ${this.file} is not valid JSON: ${(e as Error).message}`);
    }
    if (!doc || typeof doc !== 'object' || doc.version !== 1 || typeof doc.pins !== 'object' || doc.pins === null) {
      throw new CounterStateError(`pulse totals ${this.file}: unexpected content (version ${String((doc as { version?: unknown })?.version)})`);
    }
    const out: Record<string, number> = {};
    for (const [name, p] of Object.entries(doc.pins)) {
      if (p && Number.isSafeInteger(p.pulses) && p.pulses >= 0) out[name] = p.pulses;
      else throw new CounterStateError(`pulse totals ${this.file}: pins.${name}.pulses is not a non-negative integer`);
    }
    return out;
  }

  /** Keep a corrupt file for inspection instead of overwriting it with zeros. */
  quarantine(): string | undefined {
    const dest = `${this.file}.corrupt-${Date.now()}`;
    try {
      fs.renameSync(this.file, dest);
      return dest;
    } catch {
      return undefined;
    }
  }

  /** Atomic replace. Concurrent calls are serialised (the later content wins). */
  save(pins: CounterState['pins'], now: number): Promise<void> {
    const doc: CounterState = { version: 1, source: this.sourceId, pins, savedAt: now };
    // 0644: pulse totals hold no secrets, and `gpio` tooling may read them as another user.
    const run = () => writeFileAtomicAsync(this.file, JSON.stringify(doc) + '\n', 0o644);
    const p = (this.writing ?? Promise.resolve()).catch(() => undefined).then(run);
    this.writing = p;
    return p;
  }
}
