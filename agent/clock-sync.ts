import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../core/log.js';
import { silentLogger } from '../core/log.js';
import { systemClock, type Clock } from '../core/clock.js';
import { Periodic } from '../core/periodic.js';

/**
 * Tells whether the wall clock can be trusted, cheaply enough to ask per reading: `unsynced()`
 * reads a boolean that `poll()` refreshes every `pollMs` on the monotonic clock.
 *
 * The wall clock is untrusted when any of:
 * - systemd-timesyncd runs (its runtime dir /run/systemd/timesync exists) but has not
 *   touched /run/systemd/timesync/synchronized yet: it creates that file on its first sync
 *   (systemd >= 239; /run is tmpfs, so the file is gone after a reboot). One stat per poll,
 *   no D-Bus and no `timedatectl` child. Without timesyncd (chrony, ntpd, none) sync state is
 *   unknown and only the two checks below apply.
 * - the wall clock reads earlier than `minPlausible` (a board without RTC booting in 1970 or
 *   at the last shutdown's time long ago);
 * - within `holdMs` after a detected jump: wall minus monotonic changed by more than `jumpMs`
 *   between two polls (an NTP step, a manual `date -s`). Slewing stays far below that.
 * Readings taken then carry `unsynced: true`, sent upstream as `"clock":"unsynced"`. Readings
 * between a jump and the next poll (at most `pollMs`) are not flagged.
 */
export interface ClockSyncOptions {
  clock?: Clock;
  log?: Logger;
  pollMs?: number;
  jumpMs?: number;
  holdMs?: number;
  syncFile?: string;
  /** Wall clock earlier than this (ms since epoch) is certainly wrong. */
  minPlausible?: number;
  /** Injected in tests. */
  exists?: (file: string) => boolean;
}

export type SyncSource = 'timesyncd' | 'unknown';

export class ClockSync {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly jumpMs: number;
  private readonly holdMs: number;
  private readonly syncFile: string;
  private readonly syncDir: string;
  private readonly minPlausible: number;
  private readonly exists: (file: string) => boolean;
  private readonly timer: Periodic;
  private offset: number;
  private holdUntil = -Infinity;
  private flag = false;
  private synced: boolean | undefined;
  /** Wall-clock jumps detected since start. */
  jumps = 0;
  lastJump: { at: number; byMs: number } | undefined;
  source: SyncSource = 'unknown';

  constructor(opts: ClockSyncOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger;
    this.jumpMs = opts.jumpMs ?? 1000;
    this.holdMs = opts.holdMs ?? 10_000;
    this.syncFile = opts.syncFile ?? '/run/systemd/timesync/synchronized';
    this.syncDir = path.dirname(this.syncFile);
    this.minPlausible = opts.minPlausible ?? Date.UTC(2025, 0, 1);
    this.exists = opts.exists ?? fs.existsSync;
    this.offset = this.clock.now() - this.clock.mono();
    this.timer = new Periodic(opts.pollMs ?? 1000, () => this.poll(), this.clock, true);
    this.poll();
  }

  /** Per reading: a field read, no syscall. Bound so it can be handed out as a callback. */
  readonly unsynced = (): boolean => this.flag;

  start(): this {
    this.timer.start();
    return this;
  }

  stop(): void {
    this.timer.stop();
  }

  poll(): void {
    const now = this.clock.now();
    const mono = this.clock.mono();
    const offset = now - mono;
    const step = offset - this.offset;
    this.offset = offset;
    if (step > this.jumpMs || step < -this.jumpMs) {
      this.jumps++;
      this.lastJump = { at: now, byMs: Math.round(step) };
      this.holdUntil = mono + this.holdMs;
      this.log.warn({ byMs: Math.round(step) }, 'wall clock jumped; readings are marked clock:unsynced for a while');
    }
    let synced: boolean;
    if (this.exists(this.syncFile)) {
      this.source = 'timesyncd';
      synced = true;
    } else if (this.exists(this.syncDir)) {
      this.source = 'timesyncd';
      synced = false;
    } else {
      this.source = 'unknown';
      synced = true;
    }
    if (now < this.minPlausible) synced = false;
    if (synced !== this.synced) {
      if (this.synced !== undefined || !synced) this.log.info({ synced, source: this.source }, synced ? 'wall clock synchronised' : 'wall clock not synchronised; readings are marked clock:unsynced');
      this.synced = synced;
    }
    this.flag = !synced || mono < this.holdUntil;
  }

  status() {
    return { synced: this.synced === true, source: this.source, unsynced: this.flag, jumps: this.jumps, lastJump: this.lastJump };
  }
}
