import type { Logger } from '../../core/log.js';
import type { OverflowPolicyName } from './overflow.js';

export interface OutboxOptions {
  agentId: string;
  dataDir: string;
  maxBytes: number;
  overflow: OverflowPolicyName;
  batch: { maxReadings: number; maxBytes: number };
  /** Readings held in memory while the disk refuses writes (disk full, read-only). */
  memoryLimitBytes?: number;
  /**
   * Write a batch only if the broker has not acknowledged it by the next flush: on a healthy link
   * nothing but the occasional seq reservation reaches the SD card. The caller must then flush at
   * half the loss bound (a batch is written at most two flushes after its first reading).
   */
  deferWrites?: boolean;
  log: Logger;
  now?: () => number;
}

/** Default for buffer.memoryMaxBytes: readings held in RAM while the disk refuses writes. */
export const DEFAULT_MEMORY_LIMIT = 16 * 1024 * 1024;
