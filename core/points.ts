/**
 * What a source can emit, described for consumers that need types up front (the Sparkplug
 * profile's DBIRTH). Drivers produce these; the runtime hands them to the uplink.
 */
export type PointType = 'bool' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'float32' | 'float64' | 'string';

export interface PointDescriptor {
  name: string;
  /** Absent when the driver only knows the name (the consumer infers it from the first value). */
  type?: PointType;
}

/** A source as the uplink sees it: its points and whether it is up (Sparkplug DBIRTH/DDEATH). */
export interface DeviceInfo {
  id: string;
  up: boolean;
  points: readonly PointDescriptor[];
}

/**
 * A write to a device point from outside (a Sparkplug DCMD), decided by the one command executor
 * (agent/control/commands): writable points only, type and range, logged and counted. The uplink
 * receives it as a function so it never imports the control layer.
 */
export type DeviceWrite = (
  req: { id: string; source: string; point: string; value: number | boolean | string },
  origin: string,
) => Promise<{ status: 'done' | 'rejected' | 'failed'; error?: string; value?: number | boolean | string }>;
