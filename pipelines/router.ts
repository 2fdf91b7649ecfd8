import type { Emit, Reading } from '../core/reading.js';
import type { PipelineConfig } from './schema.js';
import { stages as registry } from './index.js';
import { globToRegExp } from './glob.js';
import type { Stage, StageContext } from './types.js';

const MAX_ROUTES = 50_000;

interface Chain {
  head: Emit;
  stages: Stage[];
}

/**
 * Routes each reading to the first pipeline whose `match` fits "source/point" and runs it
 * through that pipeline's stages, in order. The match is decided once per source/point and
 * cached; readings no pipeline matches go straight to the sink, as they are.
 *
 * Stage state (deadband references, dedupe heartbeats, open windows) lives in the stages of
 * one Router: a config change builds a new Router (after flush() on the old one), so state of
 * points gone from the config goes with it. Within one config, stages evict idle points.
 */
export class Router {
  private readonly chains: { re: RegExp; chain: Chain }[];
  private readonly cache = new Map<string, Map<string, Emit>>();
  /** Routes cached; past MAX_ROUTES (a parser inventing point names) routes are not cached. */
  private routes = 0;
  private readonly sink: Emit;

  constructor(pipelines: readonly PipelineConfig[], sink: Emit, ctx: StageContext) {
    // Non-finite numbers never leave a pipeline (SPEC), whatever its stages.
    this.sink = (r) => {
      if (typeof r.value === 'number' && !Number.isFinite(r.value)) ctx.drop('non-finite');
      else sink(r);
    };
    this.chains = pipelines.map((p) => ({ re: globToRegExp(p.match), chain: buildChain(p, this.sink, ctx) }));
  }

  push(r: Reading): void {
    let bySource = this.cache.get(r.source);
    if (!bySource) this.cache.set(r.source, (bySource = new Map()));
    let emit = bySource.get(r.point);
    if (!emit) {
      const key = `${r.source}/${r.point}`;
      emit = this.chains.find((c) => c.re.test(key))?.chain.head ?? this.sink;
      if (this.routes < MAX_ROUTES) {
        bySource.set(r.point, emit);
        this.routes++;
      }
    }
    emit(r);
  }

  /** Let time-based stages close windows. */
  tick(): void {
    for (const { chain } of this.chains) for (const s of chain.stages) s.tick?.();
  }

  /** Clean shutdown: stages emit what they hold, front to back so held readings pass later stages. */
  flush(): void {
    for (const { chain } of this.chains) for (const s of chain.stages) s.flush?.();
  }
}

function buildChain(p: PipelineConfig, sink: Emit, ctx: StageContext): Chain {
  const built: Stage[] = [];
  let next: Emit = sink;
  // Build back to front so each stage gets its successor.
  let heartbeat: unknown;
  for (let i = p.stages.length - 1; i >= 0; i--) {
    const item = p.stages[i] as Record<string, unknown>;
    const name = Object.keys(item).find((k) => item[k] !== undefined)!;
    const def = registry.find((d) => d.name === name);
    if (!def) throw new Error(`unknown stage "${name}"`);
    let cfg = item[name] as Record<string, unknown>;
    // A filter deadband ahead of `dedupe: { maxSilence }` would starve its heartbeat (a steady
    // value never reaches dedupe): the filter inherits that maxSilence unless it sets its own.
    if (name === 'dedupe' && cfg.maxSilence !== undefined) heartbeat = cfg.maxSilence;
    if (name === 'filter' && cfg.maxSilence === undefined && heartbeat !== undefined) cfg = { ...cfg, maxSilence: heartbeat };
    const stage = def.create(cfg, next, ctx);
    built.unshift(stage);
    next = (r) => stage.push(r);
  }
  return { head: next, stages: built };
}
