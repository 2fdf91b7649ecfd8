import { isDeepStrictEqual } from 'node:util';
import type { Config } from '../config/schema.js';

/**
 * Settings whose change needs a new MQTT connection (batch sizes and maxDelay do not). The swap
 * itself is Agent.apply(), which owns the running parts.
 */
export function uplinkNeedsRebuild(a: Config, b: Config): boolean {
  return !isDeepStrictEqual(a.uplink.mqtt, b.uplink.mqtt)
    || a.uplink.maxBytesPerSecond !== b.uplink.maxBytesPerSecond
    || a.uplink.batch.encoding !== b.uplink.batch.encoding
    || a.uplink.profile !== b.uplink.profile
    || !isDeepStrictEqual(a.uplink.sparkplug, b.uplink.sparkplug);
}
