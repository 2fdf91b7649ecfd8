import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { REPO, tempDir } from '../helpers/daemon.js';
import { have, IN_CI } from '../helpers/system.js';

/**
 * install.sh's real-system path (no --root): useradd/groupadd, chown, the native addon probe,
 * the wrapper, systemctl calls. Run in a private mount namespace where /etc, /opt, /usr/local and
 * /var are overlays onto a temp dir, so this machine's real / is never written; systemctl is a
 * recorder (no systemd runs here). Needs root (mounts), unshare and overlayfs.
 */
function canOverlay(): string | false {
  if (process.getuid?.() !== 0) return 'needs root for mount namespaces';
  if (!have('unshare')) return 'no unshare (util-linux)';
  const probe = tempDir('edge-ovl-');
  for (const d of ['lo', 'up', 'wk', 'mnt']) fs.mkdirSync(path.join(probe, d));
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `mount -t overlay overlay -o lowerdir=${probe}/lo,upperdir=${probe}/up,workdir=${probe}/wk ${probe}/mnt`]);
  return r.status === 0 ? false : `overlay mount refused: ${r.stderr}`;
}

const skip = canOverlay();
if (skip && IN_CI) console.log(`# install-live skipped in CI: ${skip}`);

test('install.sh on a "live" system (overlay namespace): user, groups, ownership, probe, systemctl; idempotent; --uninstall --purge', { skip, timeout: 60_000 }, () => {
  const before = { user: spawnSync('id', ['edge-agent']).status, opt: fs.existsSync('/opt/edge-agent') };
  const dir = tempDir('edge-live-');
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  const log = path.join(dir, 'systemctl.log');
  fs.writeFileSync(path.join(bin, 'systemctl'), `#!/bin/sh\necho "$*" >> ${log}\n`, { mode: 0o755 });
  const mounts = ['etc', 'opt', 'usr/local', 'var'].map((m) => {
    const key = m.replace('/', '-');
    fs.mkdirSync(path.join(dir, 'up', key), { recursive: true });
    fs.mkdirSync(path.join(dir, 'wk', key), { recursive: true });
    return `mount -t overlay overlay -o lowerdir=/${m},upperdir=${dir}/up/${key},workdir=${dir}/wk/${key} /${m}`;
  });
  const install = `PATH=${bin}:$PATH sh ${path.join(REPO, 'scripts/install.sh')}`;
  // `set -e`: no install step runs unless every overlay is in place.
  const script = `set -e
${mounts.join('\n')}
${install}
echo "--- second run"
${install}
echo "--- state"
id edge-agent
stat -c '%U:%G %a' /etc/edge-agent /etc/edge-agent/config.yaml
/usr/local/bin/edge-agent check --config /etc/edge-agent/config.yaml
test -f /etc/systemd/system/edge-agent.service && echo unit-present
echo "--- uninstall"
${install} --uninstall --purge
id edge-agent 2>/dev/null || echo user-gone
test -e /opt/edge-agent || echo opt-gone
test -e /etc/edge-agent || echo conf-gone
`;
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const out = r.stdout;
  assert.match(out, /wrote \/etc\/edge-agent\/config\.yaml/);
  assert.equal(out.match(/wrote \/etc\/edge-agent\/config\.yaml/g)!.length, 1, 'the config is written once, then kept');
  assert.doesNotMatch(out, /building /, 'x64 natives load as shipped: nothing to build');
  assert.match(out, /uid=\d+\(edge-agent\) gid=\d+\(edge-agent\) groups=.*\(dialout\).*\(gpio\)|groups=.*\(gpio\).*\(dialout\)/);
  assert.match(out, /root:edge-agent 750\nroot:edge-agent 640/);
  assert.match(out, /config\.yaml: ok/);
  assert.match(out, /unit-present/);
  assert.match(out, /user-gone\nopt-gone\nconf-gone/);
  const calls = fs.readFileSync(log, 'utf8').trim().split('\n');
  assert.deepEqual(calls, [
    'daemon-reload', 'enable edge-agent.service', 'restart edge-agent.service',
    'daemon-reload', 'enable edge-agent.service', 'restart edge-agent.service',
    'disable --now edge-agent.service', 'daemon-reload',
  ]);
  // Nothing leaked onto the real system.
  assert.deepEqual({ user: spawnSync('id', ['edge-agent']).status, opt: fs.existsSync('/opt/edge-agent') }, before, 'the real system is as it was');
});
