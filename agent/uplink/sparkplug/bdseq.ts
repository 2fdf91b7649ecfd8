import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../../core/atomic-write.js';
import type { Logger } from '../../../core/log.js';

/**
 * The Sparkplug birth/death sequence number: one per MQTT connection, 0..255, persisted in the
 * data dir so a restarted agent never reuses the bdSeq of its last session (a host pairs NBIRTH
 * and NDEATH by it). Written once per connection attempt, never on the data path.
 */
export class BdSeqStore {
  readonly file: string;
  private last: number | undefined;

  constructor(dataDir: string, private readonly log: Logger) {
    this.file = path.join(dataDir, 'sparkplug-bdseq');
  }

  private read(): number | undefined {
    try {
      const n = Number(fs.readFileSync(this.file, 'utf8').trim());
      if (Number.isInteger(n) && n >= 0 && n <= 255) return n;
      this.log.warn({ file: this.file }, 'sparkplug bdSeq file unreadable; starting again at 0');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn({ file: this.file, err: (e as Error).message }, 'sparkplug bdSeq file unreadable; starting again at 0');
    }
    return undefined;
  }

  /** The bdSeq of the next connection (persisted before it is used). */
  next(): number {
    const prev = this.last ?? this.read();
    const n = prev === undefined ? 0 : (prev + 1) & 255;
    this.last = n;
    try {
      writeFileAtomic(this.file, `${n}\n`, 0o644);
    } catch (e) {
      // A read-only data dir must not stop the link: the sequence still grows in memory.
      this.log.warn({ file: this.file, err: (e as Error).message }, 'cannot persist sparkplug bdSeq');
    }
    return n;
  }
}
