// esbuild: the daemon and CLI as one ESM file; native addons stay external (they ship beside it).
import { build } from 'esbuild';
import fs from 'node:fs';

const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const outfile = 'dist/edge-agent.mjs';
await build({
  entryPoints: ['agent/cli/main.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile,
  sourcemap: true,
  keepNames: true,
  external: ['better-sqlite3', '@serialport/bindings-cpp', 'epoll'],
  define: { __EDGE_AGENT_VERSION__: JSON.stringify(pkg.version) },
  // Bundled CommonJS dependencies call require(): give the ESM bundle one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
});
console.log(`${outfile}: ${(fs.statSync(outfile).size / 1024).toFixed(0)} KiB`);
