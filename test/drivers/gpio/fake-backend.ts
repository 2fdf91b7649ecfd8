import type { GpioBackend, GpioLine, OpenOptions, ResolvedLine, WatchMode } from '../../../drivers/gpio/backend.js';

/**
 * An injected backend: lines are in memory, and `set` delivers the level to the watcher
 * synchronously, as an edge interrupt would. `fail` makes the next read/watch report an error.
 */
export class FakeBackend implements GpioBackend {
  readonly name = 'fake';
  readonly levels = new Map<number, 0 | 1>();
  readonly watchers = new Map<number, { onLevel: (l: 0 | 1) => void; onError: (e: Error) => void }>();
  opens = 0;
  closes = 0;
  constructor(private readonly mode: WatchMode = { mode: 'interrupt' }) {}

  async resolve(line: number): Promise<ResolvedLine> {
    return { line, chipLabel: 'fake', chipBase: 512, ngpio: 58, number: 512 + line };
  }

  async open(r: ResolvedLine, _opts: OpenOptions): Promise<GpioLine> {
    this.opens++;
    const self = this;
    let closed = false;
    return {
      resolved: r,
      exportedByUs: true,
      read: () => self.levels.get(r.line) ?? 0,
      watch(onLevel, onError) {
        self.watchers.set(r.line, { onLevel, onError });
        return self.mode;
      },
      close() {
        if (closed) return;
        closed = true;
        self.closes++;
        self.watchers.delete(r.line);
      },
    };
  }

  set(line: number, level: 0 | 1): void {
    this.levels.set(line, level);
    this.watchers.get(line)?.onLevel(level);
  }

  pulse(line: number, n = 1): void {
    for (let i = 0; i < n; i++) {
      this.set(line, 1);
      this.set(line, 0);
    }
  }

  fail(line: number, message: string): void {
    this.watchers.get(line)?.onError(new Error(message));
  }
}
