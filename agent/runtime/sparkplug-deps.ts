import type { Reading, Value } from '../../core/reading.js';
import type { DeviceInfo, PointDescriptor } from '../../core/points.js';
import type { SparkplugDeps } from '../uplink/sparkplug/profile.js';
import { drivers } from '../../drivers/index.js';
import { pointDescriptors } from '../../drivers/types.js';
import type { SourceRunner } from './source-runner.js';

/**
 * The last value of every source/point that reached the outbox: Sparkplug DBIRTH must carry
 * each metric's current value. Keeps a reference to the reading (no copy); bounded by the config's points.
 */
export class LastValues {
  private readonly bySource = new Map<string, Map<string, Reading>>();

  set(r: Reading): void {
    let m = this.bySource.get(r.source);
    if (!m) this.bySource.set(r.source, (m = new Map()));
    m.set(r.point, r);
  }

  get(source: string, point: string): { value: Value; ts: number } | undefined {
    return this.bySource.get(source)?.get(point);
  }
}

/** Sources as Sparkplug devices; a source is down when its driver says so (or it stopped). */
export function sparkplugDeps(dataDir: string, sources: () => readonly SourceRunner[], last: LastValues): SparkplugDeps {
  // Descriptors depend only on a runner's config: computed once per runner (runners are rebuilt on a config swap).
  const points = new WeakMap<SourceRunner, readonly PointDescriptor[]>();
  const describe = (s: SourceRunner): readonly PointDescriptor[] => {
    let p = points.get(s);
    if (!p) {
      const def = drivers.find((d) => d.name === s.config.driver);
      p = def ? pointDescriptors(def, s.config) : [];
      points.set(s, p);
    }
    return p;
  };
  return {
    dataDir,
    devices: (): DeviceInfo[] => sources().map((s) => ({ id: s.id, up: s.currentState !== 'down' && s.currentState !== 'stopped', points: describe(s) })),
    lastValue: (source, point) => last.get(source, point),
  };
}
