import { isDeepStrictEqual } from 'node:util';
import type { Config } from '../config/schema.js';
import { resolvePaths, validate } from '../config/load.js';
import { formatPath, type ConfigError } from '../config/errors.js';

/**
 * Keys that belong to the board, not the fleet: `agent.dataDir` and `control.*` (SPEC), plus
 * `agent.id`, because one pushed config serves many boards and each keeps its own identity.
 * A push may omit them (the running values stay) or repeat them unchanged.
 */
const LOCAL_ONLY: readonly (readonly string[])[] = [['agent', 'id'], ['agent', 'dataDir'], ['control'], ['uplink', 'mqtt', 'clientId']];

export type MergeResult = { ok: true; config: Config } | { ok: false; errors: ConfigError[] };

function getIn(o: unknown, p: readonly PropertyKey[]): unknown {
  let cur = o;
  for (const k of p) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

/** Every leaf path under `o` (arrays and scalars are leaves: they are compared whole). */
function leaves(o: unknown, prefix: PropertyKey[], out: PropertyKey[][]): PropertyKey[][] {
  if (o !== null && typeof o === 'object' && !Array.isArray(o)) {
    const entries = Object.entries(o as Record<string, unknown>);
    if (entries.length === 0) out.push(prefix);
    for (const [k, v] of entries) leaves(v, [...prefix, k], out);
  } else out.push(prefix);
  return out;
}

/**
 * Validate a pushed (or persisted) config and give it the running local-only values.
 * `strict`: a changed local-only key is an error (pushes); otherwise the local values simply win
 * (start-up and SIGHUP, where the local file is the authority for them).
 */
export function mergeRemote(raw: unknown, local: Config, baseDir: string, strict: boolean): MergeResult {
  const res = validate(raw);
  if (!res.ok) return res;
  const pushed = resolvePaths(res.config, baseDir);
  const errors: ConfigError[] = [];
  if (strict) {
    for (const root of LOCAL_ONLY) {
      const given = getIn(raw, root);
      if (given === undefined) continue;
      for (const leaf of leaves(given, [...root], [])) {
        const want = getIn(local, leaf);
        const got = getIn(pushed, leaf);
        if (!isDeepStrictEqual(got, want)) {
          errors.push({ path: formatPath(leaf), message: `local-only key: cannot be changed remotely (omit it to keep the board's value)` });
        }
      }
    }
  }
  if (errors.length) return { ok: false, errors };
  return {
    ok: true,
    config: { ...pushed, agent: { ...pushed.agent, id: local.agent.id, dataDir: local.agent.dataDir }, control: local.control, uplink: { ...pushed.uplink, mqtt: { ...pushed.uplink.mqtt, clientId: local.uplink.mqtt.clientId } } },
  };
}
