// esbuild: the daemon and CLI as one ESM file; native addons stay external (they ship beside it).
// Minified for the board's SD card and start-up parse time, but with keepNames (class and
// function names survive in stack traces and logs) and a source map: `edge-agent debug trace`
// maps a trace from the journal back to the TypeScript sources (the CLI wrapper also runs with
// --enable-source-maps; the daemon does not, to save memory).
import { build } from 'esbuild';
import fs from 'node:fs';

const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const outfile = 'dist/edge-agent.mjs';
const result = await build({
  entryPoints: ['agent/cli/main.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile,
  minify: true,
  keepNames: true,
  sourcemap: true,
  // The map carries the sources: a trace from a board resolves without a checkout of that version.
  sourcesContent: true,
  legalComments: 'linked',
  metafile: true,
  external: ['better-sqlite3', '@serialport/bindings-cpp', 'epoll'],
  define: { __EDGE_AGENT_VERSION__: JSON.stringify(pkg.version) },
  // Bundled CommonJS dependencies call require(): give the ESM bundle one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
});
const kib = (f) => (fs.statSync(f).size / 1024).toFixed(0);
const inputs = Object.keys(result.metafile.inputs).length;
console.log(`${outfile}: ${kib(outfile)} KiB (minified, ${inputs} modules), source map ${kib(`${outfile}.map`)} KiB`);
