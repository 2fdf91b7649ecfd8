import { ControlError } from '../../core/tool-errors.js';
import type { DriverHost } from '../types.js';
import type { ControlRegistry } from '../tooling.js';
import { LineRecorder } from './monitor.js';
import { serialTaps } from './taps.js';

/**
 * The daemon's serial diagnostics (SPEC "CLI"): a monitor on a port one of its sources holds
 * taps that source, so nothing is split between two readers. A port no source holds is
 * answered `not-held`: the CLI then opens it itself.
 */
export function registerSerialControl(s: ControlRegistry, host: DriverHost): void {
  s.register('serial.monitor', 'stream {raw, points, error?} for each line the source on {port} (or {source}) reads', (p, req) => serialMonitor(host, p, req.emit, req.signal));
}

async function serialMonitor(host: DriverHost, p: Record<string, unknown>, emit: (e: unknown) => void, signal: AbortSignal) {
  const q = { source: typeof p.source === 'string' ? p.source : undefined, port: typeof p.port === 'string' ? p.port : undefined };
  if (q.source === undefined && q.port === undefined) throw new ControlError('give port or source', 'bad-params');
  const src = serialTaps(host).find(q);
  if (!src) throw new ControlError(q.source !== undefined ? `no running serial source "${q.source}"` : `no running serial source holds ${q.port}`, 'not-held');
  // The first event says what is being watched; each line follows as one record.
  emit({ source: src.sourceId, port: src.portPath });
  const recorder = new LineRecorder(emit);
  let ended: () => void = () => {};
  const sourceEnded = new Promise<void>((r) => (ended = r));
  const stop = src.addTap({
    line: (raw) => recorder.line(raw),
    point: (name, value) => recorder.point(name, value),
    error: (kind, message) => recorder.error(kind, message),
    end: () => ended(),
  });
  try {
    const aborted = new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
    if (!signal.aborted) await Promise.race([aborted, sourceEnded]);
  } finally {
    stop();
    recorder.flush();
  }
  if (!signal.aborted) throw new ControlError(`source "${src.sourceId}" stopped (daemon stopping or config changed)`, 'source-closed');
  return null;
}
