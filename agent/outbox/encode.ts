import type { Reading } from '../../core/reading.js';

/**
 * Encodes readings into the SPEC batch JSON by string building: JSON.stringify of a whole
 * batch object would allocate a tree per reading. Escaped source/point names are cached.
 */
export class BatchEncoder {
  private readonly names = new Map<string, string>();
  private readonly agent: string;
  /** `{"agent":..,"stream":..,"seq":` for the last stream seen (streams change rarely). */
  private head = '';
  private headStream: string | undefined;

  constructor(agentId: string) {
    this.agent = `{"agent":${JSON.stringify(agentId)}`;
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

  private headFor(stream: string): string {
    if (stream !== this.headStream) {
      this.headStream = stream;
      this.head = `${this.agent},"stream":${JSON.stringify(stream)},"seq":`;
    }
    return this.head;
  }

  /** Bytes a batch document adds around its readings, at most (head, 16-digit seq and ts, brackets). */
  overhead(stream: string): number {
    return this.headFor(stream).length + 44;
  }

  reading(r: Reading): string {
    const v = r.value;
    const value = typeof v === 'string' ? JSON.stringify(v) : String(v);
    let s = `{"source":${this.name(r.source)},"point":${this.name(r.point)},"ts":${r.ts},"value":${value}`;
    if (r.quality !== undefined && r.quality !== 'good') s += `,"quality":"${r.quality}"`;
    if (r.unsynced) s += ',"clock":"unsynced"';
    return s + '}';
  }

  batch(stream: string, seq: number, ts: number, fragments: readonly string[], from = 0, to = fragments.length): string {
    let s = `${this.headFor(stream)}${seq},"ts":${ts},"readings":[`;
    for (let i = from; i < to; i++) s += i === from ? fragments[i] : ',' + fragments[i];
    return s + ']}';
  }

  /** The same batch (same seq) in another stream: a batch never published whose seq could not be reserved. */
  restream(payload: string, stream: string): string {
    return this.headFor(stream) + payload.slice(payload.indexOf('"seq":') + 6);
  }
}

/**
 * The same batch with other readings, everything before them (agent, stream, seq, ts) kept byte
 * for byte: thinning must not change a stored batch's identity, whatever encoder wrote it.
 */
export function rebatch(payload: string, readings: readonly string[]): string {
  const at = payload.indexOf('"readings":[') + 12;
  return payload.slice(0, at) + readings.join(',') + ']}';
}
