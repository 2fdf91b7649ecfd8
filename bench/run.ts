/**
 * `npm run bench [-- name...]`: runs every benchmark in bench/ (each prints one JSON line last),
 * one after another so they do not compete for the two cores, and writes
 * bench/results/report.json plus a markdown table (bench/results/report.md) for the README.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const files = fs.readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.replace(/\.ts$/, ''))
  .filter((n) => only.length === 0 || only.includes(n))
  .sort();

const results: Record<string, unknown>[] = [];
for (const name of files) {
  process.stderr.write(`bench ${name} ...\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, `${name}.ts`)], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 15 * 60_000, maxBuffer: 64 * 2 ** 20,
  });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    results.push(JSON.parse(last));
  } catch {
    results.push({ name, error: `exit ${r.status ?? r.signal}; last line: ${last.slice(0, 300)}` });
  }
  process.stderr.write(`  ${results.at(-1) && JSON.stringify(results.at(-1))}\n`);
}

// Running a subset (`npm run bench -- e2e`) updates those entries and keeps the others.
const outDir = path.join(here, 'results');
const previous = (() => {
  try {
    return (JSON.parse(fs.readFileSync(path.join(outDir, 'report.json'), 'utf8')) as { results: Record<string, unknown>[] }).results;
  } catch {
    return [];
  }
})();
const merged = [...previous.filter((p) => !results.some((r) => r.name === p.name)), ...results]
  .sort((a, b) => String(a.name).localeCompare(String(b.name)));

const report = {
  machine: `${os.cpus().length}x ${os.cpus()[0]?.model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.arch()}`,
  node: process.version,
  date: new Date().toISOString(),
  results: merged,
};
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, 'report.json'), JSON.stringify(report, null, 2) + '\n');

/** Flatten one level of figures/baseline into "key value" cells for the table. */
const cells = (o: unknown) => o && typeof o === 'object'
  ? Object.entries(o as Record<string, unknown>).filter(([k]) => k !== 'what').map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(', ')
  : '';
const rows = merged.map((r) => `| ${r.name} | ${r.error ? `error: ${r.error}` : cells(r.figures)} | ${cells(r.baseline)} | ${r.ratio ?? ''} |`);
const md = `Machine: ${report.machine}, Node ${report.node}, ${report.date.slice(0, 10)}\n\n| bench | figures | same-run baseline | ratio |\n| --- | --- | --- | --- |\n${rows.join('\n')}\n`;
fs.writeFileSync(path.join(outDir, 'report.md'), md);
process.stdout.write(md);
