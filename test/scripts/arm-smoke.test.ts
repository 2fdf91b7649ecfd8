/**
 * The ARM release lane: `release.sh --complete` cross-compiles the ARM natives (scripts/arm/xbuild.sh,
 * cached), every tarball must come out complete with ARM binaries that load on bookworm (glibc
 * <= 2.36), and each tarball runs under emulation the way a board would run it
 * (scripts/arm/smoke.sh: arm64 and armv7 in a Debian root with that arch's Node 20 under qemu-user,
 * x64 natively): install.sh --root loads every addon, the first batch reaches a subscriber of the
 * host's mosquitto, the outbox is written, SIGTERM is clean, `check` and `buffer stats` work, and
 * the heap under the bench's typical load is printed.
 *
 * Needs root on an x64 Debian host: qemu-user-static, binfmt-support, debootstrap, zstd, mosquitto,
 * mosquitto-clients, binutils, python3-pymodbus (.ci/run installs them; the cross compilers are
 * installed by xbuild.sh when missing). Mandatory when CI=true (a missing tool is a failure);
 * elsewhere it runs only with ARM_SMOKE=1 and is skipped with the reason otherwise.
 * Cold (no cache in /var/cache/edge-agent-ci, no cross compilers) 7.3 min on a busy 2-core host (about
 * 4 min idle), warm about 2 min.
 * ARM_HEAP_SECONDS (default 15, 0 = off): length of the typical-load run per arch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { REPO, tempDir } from '../helpers/daemon.js';
import { have, IN_CI } from '../helpers/system.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';

const ARM = path.join(REPO, 'scripts', 'arm');
const version = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).version;
const HEAP_SECONDS = process.env.ARM_HEAP_SECONDS ?? '15';

/** Why the lane cannot run here, or undefined. */
function missingPrerequisite(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `needs an x64 Linux host (this is ${process.platform}-${process.arch})`;
  if (process.getuid?.() !== 0) return 'needs root (binfmt_misc, chroot, apt-get)';
  const tools: [string, string][] = [
    ['qemu-aarch64-static', 'qemu-user-static'], ['qemu-arm-static', 'qemu-user-static'], ['update-binfmts', 'binfmt-support'],
    ['debootstrap', 'debootstrap'], ['zstd', 'zstd'], ['mosquitto', 'mosquitto'], ['mosquitto_sub', 'mosquitto-clients'],
    ['readelf', 'binutils'], ['apt-get', 'apt'],
  ];
  const gone = tools.filter(([cmd]) => !have(cmd)).map(([cmd, pkg]) => `${cmd} (${pkg})`);
  if (HEAP_SECONDS !== '0' && spawnSync('/usr/bin/python3', ['-c', 'import pymodbus.server'], { stdio: 'ignore' }).status !== 0) gone.push('pymodbus (python3-pymodbus)');
  return gone.length ? `missing: ${gone.join(', ')}` : undefined;
}

const why = missingPrerequisite();
let skip: string | false = false;
if (IN_CI) {
  if (why) throw new Error(`ARM lane: ${why}. CI must provide it (.ci/run installs the packages)`);
} else if (process.env.ARM_SMOKE !== '1') {
  skip = 'ARM release lane: runs when CI=true or ARM_SMOKE=1 (root, x64 Debian, qemu-user; about 2 min warm)';
} else if (why) {
  skip = `ARM release lane: ${why}`;
}
if (skip) console.log(`# skipped: ${skip}`);

function run(cmd: string, args: string[], opts: { timeout: number; env?: NodeJS.ProcessEnv }): SpawnSyncReturns<string> {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: REPO, timeout: opts.timeout, env: { ...process.env, ...opts.env } });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trimEnd();
  console.log(`# ${[cmd, ...args].join(' ').replaceAll(REPO, '')}: ${((performance.now() - t0) / 1000).toFixed(1)} s\n${out.replace(/^/gm, '#   ')}`);
  return r;
}

let out = '';
const tarball = (arch: string) => path.join(out, `edge-agent-${version}-linux-${arch}.tar.gz`);

test('ARM release lane: complete tarballs with cross-built ARM natives, each run under emulation', { skip, timeout: 20 * 60_000 }, async (t) => {
  out = tempDir('edge-arm-release-');
  // The ARM roots (cached tarballs) are made while the natives cross-compile.
  const roots = ['arm64', 'armv7'].map((arch) => new Promise<string>((resolve) => {
    const p = spawn('sh', [path.join(ARM, 'mkruntime.sh'), arch], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    p.stdout!.on('data', (d) => (log += d));
    p.stderr!.on('data', (d) => (log += d));
    p.on('close', (code) => resolve(`${arch} root: exit ${code} ${log.trim()}`));
  }));
  await t.test('release.sh --complete: three complete tarballs', () => {
    // Cross compilers missing are installed by xbuild.sh; a cold cross build is about 75 s per arch.
    const r = run('sh', [path.join(REPO, 'scripts', 'release.sh'), '--no-build', '--complete', '--out', out], { timeout: 15 * 60_000 });
    assert.equal(r.status, 0, 'release.sh --complete failed');
    for (const arch of ['x64', 'arm64', 'armv7']) {
      assert.match(r.stdout, new RegExp(`linux-${arch}\\.tar\\.gz .*all natives included`));
      assert.ok(fs.existsSync(tarball(arch)));
    }
  });

  await t.test('ARM natives are ARM binaries that need no glibc newer than bookworm\'s 2.36', () => {
    const check = path.join(ARM, 'check-natives.sh');
    for (const arch of ['arm64', 'armv7']) {
      const dir = tempDir(`edge-arm-natives-${arch}-`);
      assert.equal(spawnSync('tar', ['-xzf', tarball(arch), '-C', dir, '--wildcards', '*.node']).status, 0);
      const nodes = spawnSync('find', [dir, '-name', '*.node'], { encoding: 'utf8' }).stdout.trim().split('\n').filter((f) => !f.includes('/prebuilds/'));
      assert.deepEqual(nodes.map((f) => path.basename(f)).sort(), ['better_sqlite3.node', 'epoll.node']);
      const r = run('sh', [check, arch, ...nodes], { timeout: 30_000 });
      assert.equal(r.status, 0, `${arch} natives rejected`);
      assert.match(r.stdout, arch === 'arm64' ? /better_sqlite3\.node: AArch64, needs GLIBC_2\.\d+/ : /better_sqlite3\.node: ARM, needs GLIBC_2\.\d+/);
      // The check does fail: the wrong machine, and a glibc newer than allowed.
      assert.notEqual(spawnSync('sh', [check, arch === 'arm64' ? 'armv7' : 'arm64', nodes[0]]).status, 0, 'wrong arch accepted');
      assert.notEqual(spawnSync('sh', [check, arch, nodes[0]], { env: { ...process.env, MAX_GLIBC: '2.17' } }).status, 0, 'too new glibc accepted');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const r of await Promise.all(roots)) {
    console.log(`# ${r}`);
    assert.match(r, /exit 0/);
  }

  let broker: TestBroker | undefined;
  const work = tempDir('edge-arm-smoke-');
  try {
    await t.test('binfmt: qemu-user runs arm64 and armhf binaries', () => {
      assert.equal(run('sh', [path.join(ARM, 'binfmt.sh')], { timeout: 5 * 60_000 }).status, 0);
      for (const q of ['qemu-aarch64', 'qemu-arm']) assert.match(fs.readFileSync(`/proc/sys/fs/binfmt_misc/${q}`, 'utf8'), /^enabled/);
    });
    broker = await startBroker();
    assert.equal(broker.kind, 'mosquitto');
    const heap: Record<string, string> = {};
    for (const arch of ['arm64', 'armv7', 'x64']) {
      await t.test(`smoke ${arch}: install.sh --root, first batch acknowledged, outbox written, SIGTERM clean, check, buffer stats`, () => {
        const r = run('sh', [path.join(ARM, 'smoke.sh'), arch, tarball(arch), String(broker!.port), work], { timeout: 6 * 60_000, env: { HEAP_SECONDS } });
        assert.equal(r.status, 0, `smoke ${arch} failed`);
        assert.match(r.stdout, new RegExp(`smoke ${arch}: install.sh --root: all addons load`));
        assert.match(r.stdout, /first batch acknowledged and at the subscriber/);
        assert.match(r.stdout, /SIGTERM: exit 0/);
        assert.match(r.stdout, /buffer stats: outbox written/);
        if (arch !== 'x64') assert.match(r.stdout, new RegExp(`\\(v20\\.[0-9.]+, ${arch === 'arm64' ? 'aarch64' : 'armv7l'} under qemu-user\\)`));
        const h = /heap under typical load.*/.exec(r.stdout);
        if (h) heap[arch] = h[0];
      });
    }
    if (Object.keys(heap).length) console.log(`# heap (process.memoryUsage(); RSS under qemu-user is the emulator's, so none):\n${Object.entries(heap).map(([a, l]) => `#   ${a}: ${l}`).join('\n')}`);
  } finally {
    await broker?.stop('SIGTERM');
    for (const arch of ['arm64', 'armv7']) spawnSync('umount', [path.join(work, `root-${arch}`, 'proc')], { stdio: 'ignore' });
    // Never recurse into a root whose /proc is still mounted.
    if (!fs.readFileSync('/proc/mounts', 'utf8').includes(work)) fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(out, { recursive: true, force: true });
  }
});
