import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import type { DriverHost, SourceState } from '../../drivers/types.js';
import type { Quality, Value } from '../../core/reading.js';
import type { Clock } from '../../core/clock.js';
import { standaloneContext } from '../../drivers/context.js';

export interface Captured {
  point: string;
  value: Value;
  quality?: Quality;
  ts: number;
}

/** A SourceContext that records what a driver does, for driver tests without the runtime. */
export function captureContext(opts: { sourceId?: string; clock?: Clock; dataDir?: string; host?: DriverHost } = {}) {
  const readings: Captured[] = [];
  const errors: { kind: string; message: string; point?: string }[] = [];
  const states: { state: SourceState; detail?: string }[] = [];
  const ctx = standaloneContext({
    sourceId: opts.sourceId ?? 'test',
    clock: opts.clock,
    host: opts.host,
    dataDir: opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'edge-agent-test-')),
    emit: (point, value, quality, ts) => readings.push({ point, value, quality, ts }),
    error: (kind, message, point) => errors.push({ kind, message, point }),
    setState: (state, detail) => states.push({ state, detail }),
  });
  return { ctx, readings, errors, states };
}

/** Poll `cond` until true or the timeout passes. */
export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
