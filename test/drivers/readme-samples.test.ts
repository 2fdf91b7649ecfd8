import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { drivers } from '../../drivers/index.js';

// Every driver folder documents itself: a README whose YAML samples (blocks with `sources:`)
// validate against the driver's own schema, and together show every registered driver.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../drivers');
const folders = fs.readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory() && fs.existsSync(path.join(root, e.name, 'index.ts'))).map((e) => e.name);

function samples(folder: string): { block: number; sources: Record<string, unknown>[] }[] {
  const md = fs.readFileSync(path.join(root, folder, 'README.md'), 'utf8');
  const out = [];
  let block = 0;
  for (const m of md.matchAll(/```yaml\n([\s\S]*?)```/g)) {
    block++;
    if (!/^sources:/m.test(m[1])) continue;
    const doc = YAML.parse(m[1]) as { sources: Record<string, unknown>[] };
    out.push({ block, sources: doc.sources });
  }
  return out;
}

test('every driver folder has a README with a sample that its driver schema accepts', () => {
  assert.deepEqual(folders.sort(), ['gpio', 'modbus', 'serial', 'sim']);
  const shown = new Set<string>();
  for (const folder of folders) {
    const found = samples(folder);
    assert.ok(found.length > 0, `drivers/${folder}/README.md has no yaml sample with sources:`);
    for (const { block, sources } of found) {
      for (const [i, src] of sources.entries()) {
        const def = drivers.find((d) => d.name === src.driver);
        assert.ok(def, `drivers/${folder}/README.md yaml block ${block}, sources[${i}]: unknown driver ${String(src.driver)}`);
        const r = def.schema.safeParse(src);
        assert.ok(r.success, `drivers/${folder}/README.md yaml block ${block}, sources[${i}] (${String(src.id)}): ${r.success ? '' : r.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
        shown.add(def.name);
      }
    }
  }
  assert.deepEqual([...shown].sort(), drivers.map((d) => d.name).sort(), 'every registered driver has a sample');
});
