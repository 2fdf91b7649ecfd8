/**
 * Writes agent/config/config.schema.json from the zod schema so editors can complete and check
 * the YAML (yaml-language-server: `# yaml-language-server: $schema=<path>` at the top of the file).
 * `--check` exits 1 when the committed file is stale (the test suite runs it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configJsonSchema } from '../agent/config/json-schema.js';

const out = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'agent', 'config', 'config.schema.json');
const text = JSON.stringify(configJsonSchema(), null, 2) + '\n';
if (process.argv.includes('--check')) {
  let old = '';
  try { old = readFileSync(out, 'utf8'); } catch { /* missing counts as stale */ }
  if (old !== text) {
    console.error(`${path.relative(process.cwd(), out)} is stale: run npm run schema`);
    process.exit(1);
  }
  console.log('config.schema.json is up to date');
} else {
  writeFileSync(out, text);
  console.log(`wrote ${path.relative(process.cwd(), out)} (${text.length} bytes)`);
}
