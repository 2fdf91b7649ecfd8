import fs from 'node:fs';
import path from 'node:path';

export interface FakeChip {
  label: string;
  base: number;
  ngpio: number;
}

/**
 * A stand-in for the kernel behind a sysfs GPIO tree made of regular files: gpiochip dirs with
 * label/base/ngpio, and export/unexport files it services every few ms (creating or removing
 * gpioN with direction, edge, active_low, value). `value` holds the logical level: the physical
 * level the test sets, inverted when active_low is 1, as the kernel reports it.
 */
export class FakeSysfs {
  readonly exports: number[] = [];
  readonly unexports: number[] = [];
  private readonly physical = new Map<number, 0 | 1>();
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly root: string, chips: FakeChip[]) {
    fs.mkdirSync(root, { recursive: true });
    for (const c of chips) {
      const d = path.join(root, `gpiochip${c.base}`);
      fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(path.join(d, 'label'), `${c.label}\n`);
      fs.writeFileSync(path.join(d, 'base'), `${c.base}\n`);
      fs.writeFileSync(path.join(d, 'ngpio'), `${c.ngpio}\n`);
    }
    fs.writeFileSync(path.join(root, 'export'), '');
    fs.writeFileSync(path.join(root, 'unexport'), '');
  }

  private unhook: (() => void) | undefined;

  /**
   * Service export/unexport every few ms. With `synchronous`, also the moment they are written
   * (fs.writeFileSync is wrapped; onoff, being CommonJS, calls it through the same fs object), as
   * the kernel does: onoff unexports two lines back to back, and a file would keep only the last.
   */
  start(opts: { synchronous?: boolean } = {}): this {
    this.timer = setInterval(() => this.service(), 3);
    if (opts.synchronous) {
      const orig = fs.writeFileSync;
      const ctl = new Set([path.join(this.root, 'export'), path.join(this.root, 'unexport')]);
      const self = this;
      fs.writeFileSync = function (this: unknown, file: fs.PathOrFileDescriptor, ...rest: unknown[]) {
        (orig as (...a: unknown[]) => void).call(this, file, ...rest);
        // direction too: "high"/"low" takes effect at once, as in the kernel.
        if (typeof file === 'string' && (ctl.has(path.resolve(file)) || (path.resolve(file).startsWith(self.root + path.sep) && file.endsWith('/direction')))) self.service();
      } as typeof fs.writeFileSync;
      this.unhook = () => {
        fs.writeFileSync = orig;
      };
    }
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.unhook?.();
    this.unhook = undefined;
  }

  private take(file: string): number | undefined {
    const f = path.join(this.root, file);
    const s = fs.readFileSync(f, 'utf8').trim();
    if (!s) return undefined;
    fs.writeFileSync(f, '');
    return Number(s);
  }

  /** One pass of the "kernel": pending export/unexport, and value files following active_low. */
  service(): void {
    const e = this.take('export');
    if (e !== undefined) {
      this.exports.push(e);
      const d = this.dir(e);
      fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(path.join(d, 'direction'), 'in\n');
      fs.writeFileSync(path.join(d, 'edge'), 'none\n');
      fs.writeFileSync(path.join(d, 'active_low'), '0\n');
      fs.writeFileSync(path.join(d, 'value'), `${this.physical.get(e) ?? 0}\n`);
    }
    const u = this.take('unexport');
    if (u !== undefined) {
      this.unexports.push(u);
      fs.rmSync(this.dir(u), { recursive: true, force: true });
    }
    for (const n of this.exported()) this.syncValue(n);
  }

  exported(): number[] {
    return fs.readdirSync(this.root).filter((n) => /^gpio\d+$/.test(n)).map((n) => Number(n.slice(4)));
  }

  dir(n: number): string {
    return path.join(this.root, `gpio${n}`);
  }

  attr(n: number, name: string): string {
    return fs.readFileSync(path.join(this.dir(n), name), 'utf8').trim();
  }

  /** The physical level of kernel line `n` (what an output drives). */
  level(n: number): 0 | 1 | undefined {
    return this.physical.get(n);
  }

  /** Drive the physical level of kernel line `n`. */
  set(n: number, level: 0 | 1): void {
    this.physical.set(n, level);
    if (fs.existsSync(this.dir(n))) this.syncValue(n);
  }

  private syncValue(n: number): void {
    const f = path.join(this.dir(n), 'value');
    let al = '0';
    let dir = 'in';
    try {
      al = fs.readFileSync(path.join(this.dir(n), 'active_low'), 'utf8').trim();
      dir = fs.readFileSync(path.join(this.dir(n), 'direction'), 'utf8').trim();
    } catch {
      return;
    }
    // Outputs, as the kernel has them: "high"/"low" written to direction make it "out" at that
    // level in one step; then the value file is what the user wrote, and it drives the line.
    if (dir === 'high' || dir === 'low') {
      fs.writeFileSync(path.join(this.dir(n), 'direction'), 'out\n');
      this.physical.set(n, dir === 'high' ? 1 : 0);
      fs.writeFileSync(f, `${(dir === 'high' ? 1 : 0) ^ (al === '1' ? 1 : 0)}\n`);
      return;
    }
    if (dir === 'out') {
      const v = fs.readFileSync(f, 'utf8').trim();
      if (v === '0' || v === '1') this.physical.set(n, (Number(v) ^ (al === '1' ? 1 : 0)) as 0 | 1);
      return;
    }
    const want = `${(this.physical.get(n) ?? 0) ^ (al === '1' ? 1 : 0)}\n`;
    if (fs.readFileSync(f, 'utf8') === want) return;
    // Overwrite in place, never truncate: a reader in another process (the CLI tests) must not
    // catch the file empty between truncate and write, which a kernel attribute never is.
    const fd = fs.openSync(f, 'r+');
    try {
      fs.writeSync(fd, want, 0);
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** A Pi 4 on a 6.6+ kernel: header chip at base 512, the firmware expander above it. */
export const PI4_NEW_KERNEL: FakeChip[] = [
  { label: 'pinctrl-bcm2711', base: 512, ngpio: 58 },
  { label: 'raspberrypi-exp-gpio', base: 570, ngpio: 8 },
];
