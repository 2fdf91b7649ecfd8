import { execFileSync } from 'node:child_process';
import net from 'node:net';

export const IN_CI = process.env.CI === 'true';

/** Is a system tool on PATH? */
export function have(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * For tests that need a system package: in CI it must be there (missing = failure);
 * elsewhere the caller may fall back or skip, printing the reason.
 */
export function requireTool(cmd: string, pkg: string): boolean {
  if (have(cmd)) return true;
  if (IN_CI) throw new Error(`${cmd} not found: CI must install the Debian package ${pkg} (.ci/run does)`);
  console.log(`# ${cmd} not installed (Debian package ${pkg}): using the fallback or skipping`);
  return false;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Calls `fn` for each complete line a child process writes (partial lines wait for their end). */
export function onLines(stream: NodeJS.ReadableStream, fn: (line: string) => void): void {
  let buf = '';
  stream.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      fn(line);
    }
  });
}
