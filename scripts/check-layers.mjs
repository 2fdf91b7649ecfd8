#!/usr/bin/env node
// The dependency rule of the source tree (README "Layout"): imports run one way,
//   cli, control  ->  runtime (runtime, config, systemd)  ->  drivers, pipelines, outbox, uplink  ->  core
// A module may import its own unit, and any unit of a lower layer; never upward, and never a
// sibling unit of the middle layer (drivers must not know the outbox, the uplink must not know
// the outbox's class: they meet through core/ interfaces). Exit 1 listing every violation.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// A root may be given (the test runs the rule on a throwaway tree with a known violation).
const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));

/** [path prefix, unit name, layer]; the first prefix that matches wins. */
const UNITS = [
  ['core/', 'core', 0],
  ['drivers/', 'drivers', 1],
  ['pipelines/', 'pipelines', 1],
  ['agent/outbox/', 'outbox', 1],
  ['agent/uplink/', 'uplink', 1],
  ['agent/runtime/', 'runtime', 2],
  ['agent/config/', 'runtime', 2],
  ['agent/systemd/', 'runtime', 2],
  ['agent/clock-sync.ts', 'runtime', 2],
  ['agent/version.ts', 'runtime', 2],
  ['agent/control/', 'top', 3],
  ['agent/cli/', 'top', 3],
];

function unitOf(rel) {
  for (const [prefix, unit, layer] of UNITS) if (rel === prefix || rel.startsWith(prefix)) return { unit, layer };
  return undefined;
}

function* walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.name.endsWith('.ts')) yield p;
  }
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;
const violations = [];
let files = 0;
for (const top of ['core', 'agent', 'drivers', 'pipelines']) {
  const dir = path.join(root, top);
  if (!fs.existsSync(dir)) continue;
  for (const file of walk(dir)) {
    const rel = path.relative(root, file).split(path.sep).join('/');
    const from = unitOf(rel);
    if (!from) { violations.push(`${rel}: not in any layer (add it to UNITS in scripts/check-layers.mjs)`); continue; }
    files++;
    const src = fs.readFileSync(file, 'utf8');
    for (const m of src.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2];
      const target = path.relative(root, path.resolve(path.dirname(file), spec)).split(path.sep).join('/').replace(/\.js$/, '.ts');
      const to = unitOf(target);
      const line = src.slice(0, m.index).split('\n').length + (m[0].startsWith('\n') ? 1 : 0);
      if (!to) { violations.push(`${rel}:${line}: imports ${spec}, outside the layered tree`); continue; }
      if (to.unit === from.unit) continue;
      if (to.layer > from.layer) violations.push(`${rel}:${line}: ${from.unit} (layer ${from.layer}) imports ${target} from ${to.unit} (layer ${to.layer}): against the grain`);
      else if (to.layer === from.layer && from.layer === 1) violations.push(`${rel}:${line}: ${from.unit} imports its sibling ${to.unit} (${target}): meet through core/ instead`);
    }
  }
}
if (violations.length) {
  console.error(violations.join('\n'));
  console.error(`${violations.length} layering violation${violations.length === 1 ? '' : 's'} (rule: scripts/check-layers.mjs)`);
  process.exit(1);
}
console.log(`layers ok: ${files} modules`);
