import fs from 'node:fs';
import path from 'node:path';
import type { ResolvedLine } from './backend.js';

export const DEFAULT_SYSFS_ROOT = '/sys/class/gpio';
/** Overrides the default sysfs root (tests, containers with the tree mounted elsewhere). */
export const SYSFS_ROOT_ENV = 'EDGE_AGENT_GPIO_SYSFS';

export function defaultSysfsRoot(): string {
  return process.env[SYSFS_ROOT_ENV] || DEFAULT_SYSFS_ROOT;
}

/**
 * Labels of the Raspberry Pi's header GPIO controller, best first: Pi 5 (RP1), Pi 4 (BCM2711),
 * Pi 0-3 (BCM2835/6/7). Other chips on a Pi (the firmware expander "raspberrypi-exp-gpio",
 * "brcmvirt-gpio", the BCM2712's own "gpio-brcmstb@...") do not carry the header pins.
 */
export const PI_HEADER_LABELS = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835'];

export interface ChipInfo {
  dir: string;
  label: string;
  base: number;
  ngpio: number;
}

export class GpioResolveError extends Error {}

function readTrim(file: string): string {
  return fs.readFileSync(file, 'utf8').trim();
}

/**
 * The legacy sysfs GPIO tree (`/sys/class/gpio`). Line numbers there are global: chip base +
 * offset. Kernels since 6.6 place the Pi's chip at base 512+ (dynamic allocation) where older
 * ones used 0, so BCM 17 is gpio17 on one and gpio529 on the other: always resolve via the chip.
 */
export class SysfsTree {
  constructor(readonly root: string) {}

  chips(): ChipInfo[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.root).filter((n) => /^gpiochip\d+$/.test(n));
    } catch (e) {
      throw new GpioResolveError(`no sysfs GPIO tree at ${this.root} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); kernel built without CONFIG_GPIO_SYSFS, or not a GPIO board`);
    }
    const out: ChipInfo[] = [];
    for (const n of names) {
      const dir = path.join(this.root, n);
      try {
        out.push({ dir, label: readTrim(path.join(dir, 'label')), base: Number(readTrim(path.join(dir, 'base'))), ngpio: Number(readTrim(path.join(dir, 'ngpio'))) });
      } catch {
        // A chip we cannot read is not one we could use; the error below lists what was found.
      }
    }
    return out.sort((a, b) => a.base - b.base);
  }

  /**
   * BCM line (offset on the header chip) to the kernel's sysfs number. `chipLabel` picks a chip
   * by exact label or prefix (other boards); by default the Pi's header chip.
   */
  resolve(line: number, chipLabel?: string): ResolvedLine {
    const chips = this.chips();
    const found = chips.map((c) => `${path.basename(c.dir)} "${c.label}" base ${c.base} ngpio ${c.ngpio}`).join('; ') || 'none';
    let chip: ChipInfo | undefined;
    if (chipLabel) {
      chip = chips.find((c) => c.label === chipLabel) ?? chips.find((c) => c.label.startsWith(chipLabel));
      if (!chip) throw new GpioResolveError(`no gpiochip labelled "${chipLabel}" under ${this.root} (found: ${found})`);
    } else {
      for (const l of PI_HEADER_LABELS) {
        chip = chips.find((c) => c.label === l);
        if (chip) break;
      }
      if (!chip) throw new GpioResolveError(`no Raspberry Pi header gpiochip (${PI_HEADER_LABELS.join(', ')}) under ${this.root} (found: ${found}); set the source's chip: to one of the labels`);
    }
    if (!Number.isInteger(chip.base) || !Number.isInteger(chip.ngpio)) throw new GpioResolveError(`${chip.dir}: unreadable base/ngpio`);
    if (line >= chip.ngpio) throw new GpioResolveError(`line ${line} is beyond ${path.basename(chip.dir)} "${chip.label}" (${chip.ngpio} lines, 0-${chip.ngpio - 1})`);
    return { line, chipLabel: chip.label, chipBase: chip.base, ngpio: chip.ngpio, number: chip.base + line };
  }

  lineDir(number: number): string {
    return path.join(this.root, `gpio${number}`);
  }

  isExported(number: number): boolean {
    return fs.existsSync(path.join(this.lineDir(number), 'value'));
  }

  /**
   * Export a line unless it already is; resolves once its value file can be opened for writing.
   * The wait is asynchronous: on a Pi udev fixes the permissions of the new files a little after
   * the export, and the event loop must keep running meanwhile. Returns whether we exported it.
   */
  async export(number: number, timeoutMs = 5000): Promise<boolean> {
    return serialise(async () => {
      if (this.isExported(number)) return false;
      fs.writeFileSync(path.join(this.root, 'export'), String(number));
      const value = path.join(this.lineDir(number), 'value');
      const end = Date.now() + timeoutMs;
      for (;;) {
        try {
          fs.closeSync(fs.openSync(value, 'r+'));
          return true;
        } catch (e) {
          if (Date.now() > end) throw new Error(`exported gpio${number} but ${value} is not writable after ${timeoutMs} ms (${(e as NodeJS.ErrnoException).code}); is the user in the gpio group?`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    });
  }

  unexport(number: number): void {
    try {
      fs.writeFileSync(path.join(this.root, 'unexport'), String(number));
    } catch {
      // Already gone (or unexported by someone else): nothing to release.
    }
  }
}

// One export at a time per process: exports go through a single control file.
let chain: Promise<unknown> = Promise.resolve();
function serialise<T>(fn: () => Promise<T>): Promise<T> {
  const p = chain.then(fn, fn);
  chain = p.catch(() => undefined);
  return p;
}
