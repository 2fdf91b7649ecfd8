import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseConfigText, loadConfigFile } from '../agent/config/load.js';
import { formatError } from '../agent/config/errors.js';
import { REPO } from './helpers/daemon.js';

/**
 * The reference in docs/ (and the README's sample) stays true to the schema: every ```yaml block
 * is a complete config and must validate; every ```json block must parse, and one that is a
 * config (has `uplink`) or carries one (a remote-config push: `config`) must validate too.
 * Every examples/*.yaml must load as a config file.
 */
const pages = [
  ...fs.readdirSync(path.join(REPO, 'docs')).filter((f) => f.endsWith('.md')).map((f) => path.join('docs', f)),
  'README.md',
];

function blocks(file: string): { lang: string; line: number; text: string }[] {
  const out: { lang: string; line: number; text: string }[] = [];
  const lines = fs.readFileSync(path.join(REPO, file), 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(yaml|yml|json)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i + 1;
    while (++i < lines.length && !/^```\s*$/.test(lines[i]));
    out.push({ lang: open[1], line: start, text: lines.slice(start, i).join('\n') });
  }
  return out;
}

const errorsOf = (r: ReturnType<typeof parseConfigText>, where: string) =>
  r.ok ? '' : r.errors.map((e) => formatError(e, where)).join('\n');

test('docs/ exists with the pages the README points at', () => {
  for (const p of ['README.md', 'config.md', 'mqtt.md', 'guarantees.md', 'cli.md']) assert.ok(fs.existsSync(path.join(REPO, 'docs', p)), p);
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  assert.doesNotMatch(readme, /\.\.\/shared\//, 'the README links nothing outside the repository');
  assert.match(readme, /\(docs\/README\.md\)/);
});

test('every YAML and JSON config sample in docs/*.md and the README validates against the schema', () => {
  let yaml = 0;
  let json = 0;
  for (const file of pages) {
    for (const b of blocks(file)) {
      const where = `${file}:${b.line}`;
      if (b.lang === 'json') {
        let doc: unknown;
        assert.doesNotThrow(() => (doc = JSON.parse(b.text)), `${where}: not JSON`);
        const o = doc as Record<string, unknown>;
        const cfg = o && typeof o === 'object' ? ('uplink' in o ? o : typeof o.config === 'object' ? o.config : undefined) : undefined;
        if (cfg) {
          const r = parseConfigText(JSON.stringify(cfg));
          assert.ok(r.ok, `${where}: ${errorsOf(r, where)}`);
          json++;
        }
        continue;
      }
      const r = parseConfigText(b.text);
      assert.ok(r.ok, `${where}:\n${errorsOf(r, where)}`);
      yaml++;
    }
  }
  assert.ok(yaml >= 4, `found only ${yaml} YAML samples: is the extractor broken?`);
  assert.ok(json >= 1, `found only ${json} JSON config samples`);
});

test('every examples/*.yaml loads as a config file', () => {
  const files = fs.readdirSync(path.join(REPO, 'examples')).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 3);
  for (const f of files) {
    assert.doesNotThrow(() => loadConfigFile(path.join(REPO, 'examples', f)), f);
  }
});
