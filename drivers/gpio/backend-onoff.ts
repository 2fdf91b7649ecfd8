import fs from 'node:fs';
import type { Gpio as OnoffGpio } from 'onoff';
import { pollLevels, type GpioBackend, type GpioLine, type OpenOptions, type ResolvedLine, type WatchMode } from './backend.js';
import { DEFAULT_SYSFS_ROOT, SysfsTree } from './sysfs-tree.js';

type GpioCtor = typeof OnoffGpio;
let loaded: Promise<GpioCtor> | undefined;

/**
 * onoff pulls in the native epoll addon: load it on first use only, so a board where the addon
 * is missing still runs every other driver (and the gpio driver falls back to the sysfs backend).
 */
export function loadOnoff(): Promise<GpioCtor> {
  loaded ??= import('onoff').then((m) => {
    const mod = m as unknown as { Gpio?: GpioCtor; default?: { Gpio?: GpioCtor } };
    const G = mod.Gpio ?? mod.default?.Gpio;
    if (!G) throw new Error('onoff loaded without a Gpio export');
    return G;
  });
  return loaded;
}

/**
 * onoff 6 over the kernel's sysfs tree, with epoll edge interrupts. onoff hard-codes
 * /sys/class/gpio, so this backend only runs on that root. Export is done by us (asynchronous
 * wait for udev) before onoff sees the line; onoff then configures it and delivers interrupts.
 */
export class OnoffBackend implements GpioBackend {
  readonly name = 'onoff';
  readonly tree = new SysfsTree(DEFAULT_SYSFS_ROOT);
  constructor(private readonly chipLabel?: string) {}

  async resolve(line: number): Promise<ResolvedLine> {
    return this.tree.resolve(line, this.chipLabel);
  }

  async open(r: ResolvedLine, opts: OpenOptions): Promise<GpioLine> {
    const Gpio = await loadOnoff();
    const exportedByUs = await this.tree.export(r.number);
    const shared = !exportedByUs && opts.readOnlyIfShared === true;
    // The line is exported by now, so onoff takes it as "previously exported" and does not
    // export again; it swallows configuration errors in that case, so edge is set below ourselves.
    let g: OnoffGpio;
    try {
      const direction = opts.output ? (opts.output.initial ? 'high' : 'low') : 'in';
      g = new Gpio(r.number, direction, undefined, shared && !opts.output ? { reconfigureDirection: false } : { activeLow: false, reconfigureDirection: true });
    } catch (e) {
      // Do not leave behind a line we exported but could not use (the retry would take it as someone else's).
      if (exportedByUs) this.tree.unexport(r.number);
      throw e;
    }
    return new OnoffLine(g, r, exportedByUs, opts.pollIntervalMs, shared);
  }
}

class OnoffLine implements GpioLine {
  private callback: ((err: Error | null | undefined, v: 0 | 1) => void) | undefined;
  private stopPoll: (() => void) | undefined;
  private closed = false;

  constructor(private readonly g: OnoffGpio, readonly resolved: ResolvedLine, readonly exportedByUs: boolean, private readonly pollIntervalMs: number, private readonly shared = false) {}

  read(): 0 | 1 {
    return this.g.readSync();
  }

  write(level: 0 | 1): void {
    this.g.writeSync(level);
  }

  watch(onLevel: (l: 0 | 1) => void, onError: (e: Error) => void): WatchMode {
    this.unwatch();
    let reason: string;
    try {
      // A line another program owns keeps its edge setting: interrupts only if it already is "both".
      const current = this.shared ? this.g.edge() : 'both';
      if (current !== 'both') throw Object.assign(new Error(`shared line has edge=${current}, left unchanged`), { code: `edge=${current} (shared, left unchanged)` });
      // Both edges always: the driver tracks the level to debounce and to tell rising from
      // falling itself, which a kernel edge of "rising" alone would hide.
      this.g.setEdge('both');
      const cb = (err: Error | null | undefined, v: 0 | 1) => (err ? onError(err) : onLevel(v));
      this.g.watch(cb);
      this.callback = cb;
      return { mode: 'interrupt' };
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      reason = `edge interrupts unavailable on gpio${this.resolved.number} (${err.code ?? err.message})`;
      // onoff registers the listener before epoll_ctl fails: drop it so close() stays clean.
      try {
        this.g.unwatchAll();
      } catch {
        /* epoll never had the fd */
      }
    }
    this.stopPoll = pollLevels(() => this.g.readSync(), this.pollIntervalMs, onLevel, onError);
    return { mode: 'poll', reason };
  }

  private unwatch(): void {
    this.stopPoll?.();
    this.stopPoll = undefined;
    if (this.callback) {
      try {
        this.g.unwatch(this.callback);
      } catch {
        /* already removed */
      }
      this.callback = undefined;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unwatch();
    if (this.exportedByUs) {
      this.g.unexport();
      return;
    }
    // Not ours (a daemon or another tool exported it): release our fd, leave the line exported.
    const fd = (this.g as unknown as { _valueFd?: number })._valueFd;
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        /* already closed */
      }
    }
  }
}
