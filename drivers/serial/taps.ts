import type { Value } from '../../core/reading.js';
import { devicePath } from '../../core/device-path.js';
import type { DriverHost } from '../types.js';

/**
 * Lets a monitor (`edge-agent serial monitor`, directly or through the daemon's control socket)
 * see each line a serial source reads, and what its parser made of it. A source without taps
 * pays one nullable check per line.
 */
export interface LineTap {
  /** A framed line, before parsing (the buffer is reused: copy what you keep). */
  line(raw: Buffer): void;
  /** A point the parser made of the line just tapped. */
  point?(name: string, value: Value): void;
  /** Why the line just tapped was rejected (or, for `overlong`, bytes dropped up to a delimiter). */
  error?(kind: string, message: string): void;
  /** The source closed (daemon stopping or reconfigured): no more lines come. */
  end?(): void;
}

/** What the registry needs of a running serial source. */
export interface Tappable {
  readonly sourceId: string;
  readonly portPath: string;
  addTap(t: LineTap): () => void;
}

/**
 * The serial sources running in one agent, for the control socket's `serial.monitor`. Per agent
 * (through the SourceContext's host), not a module global.
 */
export class TapRegistry {
  private readonly running = new Set<Tappable>();

  add(s: Tappable): void {
    this.running.add(s);
  }

  remove(s: Tappable): void {
    this.running.delete(s);
  }

  /**
   * The running source with this id, or holding this port (matched by the device it resolves to,
   * so a /dev/serial/by-id link finds the source configured as /dev/ttyUSB0).
   */
  find(q: { source?: string; port?: string }): Tappable | undefined {
    if (q.source !== undefined) {
      for (const s of this.running) if (s.sourceId === q.source) return s;
      return undefined;
    }
    if (q.port === undefined) return undefined;
    const want = devicePath(q.port);
    for (const s of this.running) if (devicePath(s.portPath) === want) return s;
    return undefined;
  }
}

/** The agent's serial tap registry. */
export function serialTaps(host: DriverHost): TapRegistry {
  return host.shared('serial.taps', () => new TapRegistry());
}

/** Several monitors on one source: one tap that forwards to each. */
export function fanOut(taps: readonly LineTap[]): LineTap | undefined {
  if (taps.length <= 1) return taps[0];
  return {
    line: (raw) => { for (const t of taps) t.line(raw); },
    point: (n, v) => { for (const t of taps) t.point?.(n, v); },
    error: (k, m) => { for (const t of taps) t.error?.(k, m); },
    end: () => { for (const t of taps) t.end?.(); },
  };
}
