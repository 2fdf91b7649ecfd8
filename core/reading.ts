/** The one data shape that flows from drivers through pipelines into the outbox (SPEC "Reading"). */
export type Value = number | boolean | string;
export type Quality = 'good' | 'uncertain' | 'bad';

export interface Reading {
  source: string;
  point: string;
  /** Acquisition time, integer ms since the Unix epoch (wall clock). */
  ts: number;
  value: Value;
  /** Omitted means good. */
  quality?: Quality;
  /**
   * Set when the wall clock was not known to be synchronised at acquisition time
   * (boot before NTP, or a jump detected). Sent upstream as `"clock":"unsynced"`.
   */
  unsynced?: boolean;
}

/** Emit callback used between drivers, stages and the outbox. */
export type Emit = (r: Reading) => void;
