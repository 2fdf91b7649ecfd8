#!/usr/bin/env node
// Lays out what goes to a board in one directory (the release tarball's content, what install.sh
// copies to /opt/edge-agent): the bundle, its source map, the unit, examples, install.sh, and the
// node_modules subset the bundle loads at run time: the three native addons kept external by
// scripts/build.mjs and their run-time dependencies, with the native binary for the target only.
//
//   node scripts/stage.mjs --out DIR [--arch x64|arm64|armv7] [--natives DIR]
//
// --natives DIR: binaries built elsewhere for a foreign arch (cross-compiled by scripts/arm/xbuild.sh,
//   which release.sh runs, or built on a board),
//   laid out as DIR/<package>/<path in package>, e.g. DIR/better-sqlite3/build/Release/better_sqlite3.node.
// Writes NATIVES.txt: per addon, included or `missing` (install.sh then builds it on the board).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const HOST_ARCH = { x64: 'x64', arm64: 'arm64', arm: 'armv7' }[process.arch];
const { values: opt } = parseArgs({ options: { out: { type: 'string' }, arch: { type: 'string', default: HOST_ARCH }, natives: { type: 'string' } } });
if (!opt.out) throw new Error('usage: stage.mjs --out DIR [--arch x64|arm64|armv7] [--natives DIR]');
const arch = opt.arch;
if (!['x64', 'arm64', 'armv7'].includes(arch)) throw new Error(`unknown arch ${arch}: x64, arm64 or armv7`);
const out = path.resolve(opt.out);
const NM = path.join(REPO, 'node_modules');

/** Native addons the bundle requires, and where each one's binary sits in its package. */
const ADDONS = [
  // prebuild-install fetches better-sqlite3 binaries from GitHub at install time (no network
  // here), so only the host's locally built one exists; ARM ones come with --natives.
  { name: 'better-sqlite3', binary: 'build/Release/better_sqlite3.node' },
  // node-gyp-build: prebuilt binaries for linux-x64, linux-arm64 and linux-arm (armv6/armv7) ship
  // inside the npm package.
  { name: '@serialport/bindings-cpp', prebuilds: { x64: 'linux-x64', arm64: 'linux-arm64', armv7: 'linux-arm' } },
  // onoff's epoll: always built from source by its install script (node-gyp); ARM: --natives.
  { name: 'epoll', binary: 'build/Release/epoll.node' },
];
/** Needed to build, never at run time. */
const BUILD_ONLY = new Set(['nan', 'node-addon-api', 'prebuild-install', 'node-gyp']);
/** Package content never needed at run time. */
const SKIP = new Set(['node_modules', 'test', 'tests', 'example', 'examples', '.github', 'docs', 'benchmark']);
/** Also skipped in addon packages: C/C++ sources and binaries (the target's binary is added back). */
const SKIP_ADDON = new Set(['src', 'deps', 'build', 'prebuilds', 'binding.gyp']);

function locate(name, fromDir) {
  // Node's resolution: the nearest node_modules/<name> walking up from the requiring package.
  for (let d = fromDir; d.startsWith(NM) || d === REPO; d = path.dirname(d)) {
    const cand = path.join(d, 'node_modules', name);
    if (fs.existsSync(path.join(cand, 'package.json'))) return cand;
    if (d === REPO) break;
  }
  throw new Error(`cannot find ${name} from ${fromDir}: run npm install in the repo`);
}

function copyPackage(src, dst) {
  fs.mkdirSync(dst, { recursive: true });
  const addon = fs.existsSync(path.join(src, 'binding.gyp'));
  for (const e of fs.readdirSync(src, { withFileTypes: true })) {
    if (SKIP.has(e.name) || (addon && SKIP_ADDON.has(e.name)) || /\.(md|markdown|ts|map)$/i.test(e.name) && !/^licen[cs]e/i.test(e.name)) continue;
    const s = path.join(src, e.name);
    if (e.isDirectory()) fs.cpSync(s, path.join(dst, e.name), { recursive: true, filter: (f) => !/\.d\.ts$|\.map$/.test(f) });
    else if (e.isFile()) fs.copyFileSync(s, path.join(dst, e.name));
  }
}

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });

// The closure of run-time dependencies, each copied to the same place under node_modules.
const seen = new Set();
const queue = ADDONS.map((a) => locate(a.name, REPO));
while (queue.length) {
  const dir = queue.shift();
  if (seen.has(dir)) continue;
  seen.add(dir);
  copyPackage(dir, path.join(out, path.relative(REPO, dir)));
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  for (const dep of Object.keys(pkg.dependencies ?? {})) if (!BUILD_ONLY.has(dep)) queue.push(locate(dep, dir));
}

const report = [];
for (const a of ADDONS) {
  const src = locate(a.name, REPO);
  const dst = path.join(out, 'node_modules', a.name);
  const version = JSON.parse(fs.readFileSync(path.join(src, 'package.json'), 'utf8')).version;
  if (a.prebuilds) {
    const dir = a.prebuilds[arch];
    const files = fs.readdirSync(path.join(src, 'prebuilds', dir)).filter((f) => f.includes('glibc') && (arch !== 'armv7' || /armv[67]/.test(f)));
    for (const f of files) fs.cpSync(path.join(src, 'prebuilds', dir, f), path.join(dst, 'prebuilds', dir, f));
    report.push(`${a.name} ${version} prebuilt ${files.map((f) => `prebuilds/${dir}/${f}`).join(' ')}`);
    continue;
  }
  const foreign = opt.natives ? path.join(opt.natives, a.name, a.binary) : undefined;
  const local = arch === HOST_ARCH ? path.join(src, a.binary) : undefined;
  const from = [foreign, local].find((f) => f && fs.existsSync(f));
  if (from) {
    fs.cpSync(from, path.join(dst, a.binary));
    report.push(`${a.name} ${version} built ${a.binary}`);
  } else {
    report.push(`${a.name} ${version} missing ${a.binary}`);
  }
}

const dist = path.join(REPO, 'dist');
for (const f of ['edge-agent.mjs', 'edge-agent.mjs.map', 'edge-agent.mjs.LEGAL.txt']) {
  if (!fs.existsSync(path.join(dist, f))) throw new Error(`dist/${f} missing: npm run build first`);
  fs.copyFileSync(path.join(dist, f), path.join(out, f));
}
fs.cpSync(path.join(REPO, 'systemd'), path.join(out, 'systemd'), { recursive: true });
fs.mkdirSync(path.join(out, 'examples'));
for (const f of fs.readdirSync(path.join(REPO, 'examples')).filter((f) => f.endsWith('.yaml'))) fs.copyFileSync(path.join(REPO, 'examples', f), path.join(out, 'examples', f));
fs.copyFileSync(path.join(REPO, 'scripts', 'install.sh'), path.join(out, 'install.sh'));
fs.chmodSync(path.join(out, 'install.sh'), 0o755);
const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
fs.writeFileSync(path.join(out, 'VERSION'), `${pkg.version}\n`);
// better-sqlite3 and epoll are built against one Node ABI (NODE_MODULE_VERSION); serialport's
// prebuilds are N-API and load on any Node >= 20.
fs.writeFileSync(path.join(out, 'NATIVES.txt'), `# linux-${arch}, built for node ${process.versions.node.split('.')[0]} (ABI ${process.versions.modules}): <package> <version> prebuilt|built|missing <binary>\n${report.join('\n')}\n`);
for (const f of ['README.md', 'docs-install.md']) if (fs.existsSync(path.join(REPO, f))) fs.copyFileSync(path.join(REPO, f), path.join(out, f));
console.log(`staged linux-${arch} in ${out}\n${report.map((l) => `  ${l}`).join('\n')}`);
