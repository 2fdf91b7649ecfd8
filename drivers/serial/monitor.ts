import type { Value } from '../../core/reading.js';
import type { LineTap } from './taps.js';

/**
 * A line as a monitor shows it (`serial monitor --json`, and each event of the daemon's
 * `serial.monitor`): its text, the points parsed from it, or why it was rejected. An error that
 * belongs to no line (port closed, bytes dropped before a delimiter) comes as `{error}` alone.
 */
export interface LineRecord {
  raw: string;
  points: Record<string, Value>;
  error?: { kind: string; message: string };
}

/** What a monitor stream carries: records, lone errors, and first `{source, port}` from the daemon. */
export type MonitorEvent = Partial<LineRecord> & { source?: string; port?: string };

/**
 * Builds one record per tapped line: the points and the error the parser reports for a line
 * attach to it, and it is sent once the parse is done (parsing is synchronous: a microtask
 * later the record is complete).
 */
export class LineRecorder implements LineTap {
  private rec: LineRecord | undefined;

  constructor(private readonly send: (e: MonitorEvent) => void) {}

  line(raw: Buffer): void {
    this.flush();
    this.rec = { raw: raw.toString('utf8'), points: {} };
    queueMicrotask(this.flush);
  }

  point(name: string, value: Value): void {
    if (this.rec) this.rec.points[name] = value;
  }

  error(kind: string, message: string): void {
    if (this.rec) this.rec.error = { kind, message };
    else this.send({ error: { kind, message } });
  }

  readonly flush = (): void => {
    const r = this.rec;
    this.rec = undefined;
    if (r) this.send(r);
  };
}
