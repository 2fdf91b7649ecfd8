import type { Reading } from '../../core/reading.js';

/**
 * Encodes readings into the SPEC batch JSON by string building: JSON.stringify of a whole
 * batch object would allocate a tree per reading. Escaped source/point names are cached.
 */
export class BatchEncoder {
  private readonly names = new Map<string, string>();
  private readonly head: string;

  constructor(agentId: string) {
    this.head = `{"agent":${JSON.stringify(agentId)},"seq":`;
  }

  /** `,"point":"x"` style fragments are cached per distinct name (bounded by the config). */
  private name(s: string): string {
    let v = this.names.get(s);
    if (v === undefined) {
      v = JSON.stringify(s);
      if (this.names.size < 100_000) this.names.set(s, v);
    }
    return v;
  }

  reading(r: Reading): string {
    const v = r.value;
    const value = typeof v === 'string' ? JSON.stringify(v) : String(v);
    let s = `{"source":${this.name(r.source)},"point":${this.name(r.point)},"ts":${r.ts},"value":${value}`;
    if (r.quality !== undefined && r.quality !== 'good') s += `,"quality":"${r.quality}"`;
    if (r.unsynced) s += ',"clock":"unsynced"';
    return s + '}';
  }

  batch(seq: number, ts: number, fragments: readonly string[], from = 0, to = fragments.length): string {
    let s = `${this.head}${seq},"ts":${ts},"readings":[`;
    for (let i = from; i < to; i++) s += i === from ? fragments[i] : ',' + fragments[i];
    return s + ']}';
  }

  /** The same batch under another seq (renumbering a batch that was never published). */
  reseq(payload: string, seq: number): string {
    return this.head + seq + payload.slice(payload.indexOf(',', this.head.length));
  }
}
