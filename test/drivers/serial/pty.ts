import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireTool } from '../../helpers/system.js';

/** socat is how users test serial gear without hardware; in CI it must be present. */
export const HAVE_SOCAT = requireTool('socat', 'socat');
export const SKIP_REASON = HAVE_SOCAT ? false : 'socat not installed (Debian package socat): pty tests skipped';

/**
 * A socat pty pair: the source opens `device`, the test writes to `peer` (and reads what the
 * source sends, for query mode). stop() and start() again recreate the pair at the same paths,
 * which is what unplugging and replugging a USB adapter looks like to the driver.
 */
export class PtyPair {
  readonly dir: string;
  readonly device: string;
  readonly peer: string;
  private proc: ChildProcess | undefined;
  private fh: fs.promises.FileHandle | undefined;

  constructor(dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-serial-'))) {
    this.dir = dir;
    this.device = path.join(dir, 'dev');
    this.peer = path.join(dir, 'peer');
  }

  async start(): Promise<this> {
    this.proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${this.device}`, `pty,raw,echo=0,link=${this.peer}`], { stdio: 'ignore' });
    const end = Date.now() + 10_000;
    while (!(fs.existsSync(this.device) && fs.existsSync(this.peer))) {
      if (Date.now() > end) throw new Error('socat did not create the pty pair within 10 s');
      if (this.proc.exitCode !== null) throw new Error(`socat exited with ${this.proc.exitCode}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    // Async writes (libuv thread pool): a full pty buffer must never block the event loop,
    // or the source under test could not drain it.
    this.fh = await fs.promises.open(this.peer, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
    return this;
  }

  async write(data: string | Buffer): Promise<void> {
    if (!this.fh) throw new Error('pty pair not started');
    await this.fh.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Read what the source wrote (query mode), up to `n` bytes or the timeout. */
  async read(timeoutMs = 5000): Promise<Buffer> {
    if (!this.fh) throw new Error('pty pair not started');
    const buf = Buffer.alloc(256);
    const r = await Promise.race([
      this.fh.read(buf, 0, buf.length, null),
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error('nothing to read')), timeoutMs).unref()),
    ]);
    return buf.subarray(0, r.bytesRead);
  }

  async stop(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(() => {});
    const p = this.proc;
    this.proc = undefined;
    if (p && p.exitCode === null) {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await exited;
    }
  }
}
