import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { REPO, tempDir } from '../helpers/daemon.js';

const RELEASE = path.join(REPO, 'scripts', 'release.sh');
const version = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).version;

function natives(tarball: string, arch: string): string[] {
  const r = spawnSync('tar', ['-xzOf', tarball, `edge-agent-${version}-linux-${arch}/NATIVES.txt`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l && !l.startsWith('#'));
}

test('release.sh --arch x64: the x64 tarball only, no cross build', { timeout: 60_000 }, () => {
  const r = spawnSync('sh', [RELEASE, '--no-build', '--arch', 'x64', '--complete'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.doesNotMatch(r.stdout + r.stderr, /xbuild|cross/);
  assert.deepEqual(fs.readdirSync(path.join(REPO, 'dist', 'release')).sort(), ['SHA256SUMS', `edge-agent-${version}-linux-x64.tar.gz`]);
});

// --no-cross: the plumbing of the fallback for natives built elsewhere (the complete ARM tarballs,
// cross-compiled and run under qemu, are test/scripts/arm-smoke.test.ts).
test('release.sh --no-cross: one tarball per arch, honest NATIVES.txt, --complete refuses missing natives, --natives fills them', { timeout: 60_000 }, () => {
  const r = spawnSync('sh', [RELEASE, '--no-build', '--no-cross', '--arch', 'x64 arm64 armv7'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const out = path.join(REPO, 'dist', 'release');
  const tar = (arch: string) => path.join(out, `edge-agent-${version}-linux-${arch}.tar.gz`);
  for (const arch of ['x64', 'arm64', 'armv7']) assert.ok(fs.existsSync(tar(arch)), `${arch} tarball`);
  assert.match(fs.readFileSync(path.join(out, 'SHA256SUMS'), 'utf8'), /linux-armv7\.tar\.gz/);

  const x64 = natives(tar('x64'), 'x64');
  assert.equal(x64.filter((l) => l.includes(' missing ')).length, 0, x64.join('\n'));
  assert.equal(x64.length, 3);
  const files = spawnSync('tar', ['-tzf', tar('x64')], { encoding: 'utf8' }).stdout;
  assert.match(files, /node_modules\/better-sqlite3\/build\/Release\/better_sqlite3\.node/);
  assert.match(files, /edge-agent\.mjs\.map/);
  assert.match(files, /install\.sh/);

  for (const arch of ['arm64', 'armv7']) {
    const lines = natives(tar(arch), arch);
    assert.match(lines.find((l) => l.startsWith('@serialport/bindings-cpp'))!, new RegExp(`prebuilt prebuilds/linux-${arch === 'armv7' ? 'arm' : 'arm64'}/`));
    assert.match(lines.find((l) => l.startsWith('better-sqlite3'))!, / missing /);
    assert.match(lines.find((l) => l.startsWith('epoll'))!, / missing /);
    const list = spawnSync('tar', ['-tzf', tar(arch)], { encoding: 'utf8' }).stdout;
    assert.doesNotMatch(list, /linux-x64|better_sqlite3\.node|epoll\.node/, `no x64 binary in the ${arch} tarball`);
  }
  assert.match(r.stdout, /linux-arm64\.tar\.gz .*MISSING natives: better-sqlite3 epoll/);

  // The tarball's own install.sh, into a throwaway root: the ARM tree says what must be built.
  const unpack = tempDir('edge-unpack-');
  assert.equal(spawnSync('tar', ['-C', unpack, '-xzf', tar('armv7')]).status, 0);
  const root = tempDir('edge-root-');
  const inst = spawnSync('sh', [path.join(unpack, `edge-agent-${version}-linux-armv7`, 'install.sh'), '--root', root], { encoding: 'utf8' });
  assert.equal(inst.status, 0, inst.stderr);
  assert.match(inst.stdout, /better-sqlite3 .*epoll do not load .*builds them when run on the board/);
  assert.ok(fs.existsSync(path.join(root, 'opt/edge-agent/node_modules/@serialport/bindings-cpp/prebuilds/linux-arm')));

  const strict = spawnSync('sh', [RELEASE, '--no-build', '--no-cross', '--arch', 'arm64', '--complete'], { encoding: 'utf8' });
  assert.notEqual(strict.status, 0, '--complete fails while natives are missing');

  // Binaries built elsewhere (on a board) come in with --natives, and no cross build happens for
  // that arch (placeholders here: only the plumbing is under test).
  const nat = tempDir('edge-natives-');
  for (const f of ['better-sqlite3/build/Release/better_sqlite3.node', 'epoll/build/Release/epoll.node']) {
    fs.mkdirSync(path.dirname(path.join(nat, 'linux-arm64', f)), { recursive: true });
    fs.writeFileSync(path.join(nat, 'linux-arm64', f), 'arm64 binary placeholder');
  }
  const filled = spawnSync('sh', [RELEASE, '--no-build', '--arch', 'arm64', '--complete', '--natives', nat], { encoding: 'utf8' });
  assert.equal(filled.status, 0, `${filled.stdout}\n${filled.stderr}`);
  assert.doesNotMatch(filled.stdout + filled.stderr, /xbuild/);
  assert.deepEqual(natives(tar('arm64'), 'arm64').filter((l) => l.includes(' missing ')), []);
});
