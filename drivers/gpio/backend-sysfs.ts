import fs from 'node:fs';
import path from 'node:path';
import { pollLevels, type GpioBackend, type GpioLine, type OpenOptions, type ResolvedLine, type WatchMode } from './backend.js';
import { SysfsTree } from './sysfs-tree.js';

/**
 * Plain-file sysfs backend: configures the line through its attribute files and samples `value`.
 * No interrupts (epoll on sysfs needs onoff's native addon), so it always polls. Used for a
 * non-default sysfs root and when the onoff addon cannot load.
 */
export class SysfsBackend implements GpioBackend {
  readonly name = 'sysfs';
  readonly tree: SysfsTree;
  constructor(root: string, private readonly chipLabel?: string) {
    this.tree = new SysfsTree(root);
  }

  async resolve(line: number): Promise<ResolvedLine> {
    return this.tree.resolve(line, this.chipLabel);
  }

  async open(r: ResolvedLine, opts: OpenOptions): Promise<GpioLine> {
    const exportedByUs = await this.tree.export(r.number);
    const dir = this.tree.lineDir(r.number);
    try {
      if (opts.output) {
        // "high"/"low" sets direction and level in one step: the line never glitches to the other level.
        fs.writeFileSync(path.join(dir, 'active_low'), '0');
        fs.writeFileSync(path.join(dir, 'direction'), opts.output.initial ? 'high' : 'low');
        return new SysfsLine(this.tree, r, exportedByUs, opts.pollIntervalMs, 'sysfs backend has no edge interrupts', true);
      }
      if (exportedByUs || !opts.readOnlyIfShared) {
        fs.writeFileSync(path.join(dir, 'direction'), 'in');
        fs.writeFileSync(path.join(dir, 'active_low'), '0');
        // Edge is set for anyone else watching the line (and mirrors what onoff does); best
        // effort, since lines without interrupt support have no edge file.
        try {
          fs.writeFileSync(path.join(dir, 'edge'), 'both');
        } catch {
          /* no edge support: irrelevant when polling */
        }
      }
      return new SysfsLine(this.tree, r, exportedByUs, opts.pollIntervalMs, 'sysfs backend has no edge interrupts');
    } catch (e) {
      // Do not leave behind a line we exported but could not use (the retry would take it as someone else's).
      if (exportedByUs) this.tree.unexport(r.number);
      throw e;
    }
  }
}

export class SysfsLine implements GpioLine {
  private fd: number | undefined;
  private stop: (() => void) | undefined;
  private readonly buf = Buffer.alloc(4);

  constructor(private readonly tree: SysfsTree, readonly resolved: ResolvedLine, readonly exportedByUs: boolean, private readonly pollIntervalMs: number, private readonly pollReason: string, output = false) {
    this.fd = fs.openSync(path.join(tree.lineDir(resolved.number), 'value'), output ? 'r+' : 'r');
  }

  write(level: 0 | 1): void {
    if (this.fd === undefined) throw new Error(`gpio${this.resolved.number} is closed`);
    fs.writeSync(this.fd, level ? '1' : '0', 0);
  }

  read(): 0 | 1 {
    if (this.fd === undefined) throw new Error(`gpio${this.resolved.number} is closed`);
    // pread at offset 0: sysfs attributes are re-generated on each read from the start.
    const n = fs.readSync(this.fd, this.buf, 0, 1, 0);
    if (n < 1) throw new Error(`gpio${this.resolved.number}: empty value read`);
    return this.buf[0] === 0x31 ? 1 : 0;
  }

  watch(onLevel: (l: 0 | 1) => void, onError: (e: Error) => void): WatchMode {
    this.stop?.();
    this.stop = pollLevels(() => this.read(), this.pollIntervalMs, onLevel, onError);
    return { mode: 'poll', reason: this.pollReason };
  }

  close(): void {
    this.stop?.();
    this.stop = undefined;
    if (this.fd !== undefined) {
      try {
        fs.closeSync(this.fd);
      } catch {
        /* already closed */
      }
      this.fd = undefined;
      if (this.exportedByUs) this.tree.unexport(this.resolved.number);
    }
  }
}
