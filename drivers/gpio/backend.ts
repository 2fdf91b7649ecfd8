/**
 * How the driver reaches GPIO lines. Backends: `onoff` (sysfs with epoll edge interrupts, the
 * default on a board), `sysfs` (plain file reads, polling; any sysfs root) and, later, a
 * libgpiod/character-device one. Tests inject their own.
 */
export interface ResolvedLine {
  /** The configured BCM line (offset on the chip). */
  line: number;
  chipLabel: string;
  chipBase: number;
  ngpio: number;
  /** The kernel's global number (sysfs gpioN): chipBase + line. */
  number: number;
}

export interface OpenOptions {
  /** Sampling period when edge interrupts are unavailable. */
  pollIntervalMs: number;
  /**
   * Leave direction/edge/active_low alone when the line is already exported by someone else
   * (the CLI next to a running daemon): read only.
   */
  readOnlyIfShared?: boolean;
  /** Open as an output driven at this physical level from the start (no glitch through the other level). */
  output?: { initial: 0 | 1 };
}

export type WatchMode = { mode: 'interrupt' } | { mode: 'poll'; reason: string };

export interface GpioLine {
  readonly resolved: ResolvedLine;
  /** False when the line was already exported; then close() leaves it exported. */
  readonly exportedByUs: boolean;
  /**
   * Current physical level. Throws on I/O failure. The kernel's active_low is kept at 0 and
   * `activeLow` applied by the driver, so every backend (and a shared line) reports the same.
   */
  read(): 0 | 1;
  /**
   * Report levels as they change: from edge interrupts when the platform gives them, otherwise
   * by sampling (the returned mode says which and why). A level may repeat; callers dedupe.
   */
  watch(onLevel: (level: 0 | 1) => void, onError: (e: Error) => void): WatchMode;
  /** Drive an output line to a physical level (lines opened with `output`). Throws on I/O failure. */
  write?(level: 0 | 1): void;
  /** Stop watching and release the line. Idempotent. */
  close(): void;
}

export interface GpioBackend {
  readonly name: string;
  resolve(line: number): Promise<ResolvedLine>;
  open(line: ResolvedLine, opts: OpenOptions): Promise<GpioLine>;
}

/** Sample `read` every `intervalMs`, report changes only. Returns the stop function. */
export function pollLevels(read: () => 0 | 1, intervalMs: number, onLevel: (l: 0 | 1) => void, onError: (e: Error) => void): () => void {
  let last: 0 | 1 | -1 = -1;
  let failing = false;
  const t = setInterval(() => {
    let l: 0 | 1;
    try {
      l = read();
    } catch (e) {
      // Report the first failure of a run, not one per sample.
      if (!failing) onError(e as Error);
      failing = true;
      return;
    }
    failing = false;
    if (l !== last) {
      last = l;
      onLevel(l);
    }
  }, intervalMs);
  return () => clearInterval(t);
}
