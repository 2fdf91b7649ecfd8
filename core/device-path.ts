import fs from 'node:fs';

/**
 * The device a serial port path resolves to, so `/dev/serial/by-id/...` and the `/dev/ttyUSB0`
 * it points at count as one port (diagnostics find the source or bus holding it either way).
 */
export function devicePath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}
