import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { REPO, tempDir, writeConfig, spawnDaemon } from '../helpers/daemon.js';
import { freePort, have } from '../helpers/system.js';

const INSTALL = path.join(REPO, 'scripts', 'install.sh');
const isRoot = process.getuid?.() === 0;

function install(root: string, ...args: string[]) {
  const r = spawnSync('sh', [INSTALL, '--root', root, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `install.sh ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Every path under root with its type, mode, owner and content hash (or link target). */
function snapshot(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const f = path.join(dir, name);
      const st = fs.lstatSync(f);
      const rel = path.relative(root, f);
      const meta = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
      if (st.isSymbolicLink()) out.push(`L ${rel} -> ${fs.readlinkSync(f)}`);
      else if (st.isDirectory()) {
        out.push(`D ${rel} ${meta}`);
        walk(f);
      } else out.push(`F ${rel} ${meta} ${crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex')}`);
    }
  };
  walk(root);
  return out;
}

/** A throwaway root with just enough of /etc for useradd/groupadd --root. */
function fakeRoot(): string {
  const root = tempDir('edge-root-');
  fs.mkdirSync(path.join(root, 'etc'));
  fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  fs.writeFileSync(path.join(root, 'etc/shadow'), 'root:*:19000:0:99999:7:::\n', { mode: 0o640 });
  fs.writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\ndialout:x:20:\n');
  fs.writeFileSync(path.join(root, 'etc/gshadow'), 'root:*::\ndialout:*::\n', { mode: 0o640 });
  return root;
}

test('install.sh into a throwaway root twice gives the same tree; the installed bundle runs; --uninstall removes it', { skip: !fs.existsSync(path.join(REPO, 'dist/edge-agent.mjs')) && 'npm run build first', timeout: 60_000 }, async (t) => {
  const withUsers = isRoot && have('useradd'); // useradd --root chroots: root only
  if (!withUsers) t.diagnostic('not root or no useradd: installing without user creation');
  const root = withUsers ? fakeRoot() : tempDir('edge-root-');
  const out = install(root);
  assert.doesNotMatch(out, /do not load/, 'every native addon of the x64 tree loads here');
  const first = snapshot(root);
  install(root);
  const second = snapshot(root);
  assert.deepEqual(second, first, 'a second run changes nothing');

  for (const f of ['opt/edge-agent/edge-agent.mjs', 'opt/edge-agent/edge-agent.mjs.map', 'opt/edge-agent/NATIVES.txt',
    'opt/edge-agent/node_modules/better-sqlite3/build/Release/better_sqlite3.node', 'opt/edge-agent/node_modules/epoll/build/Release/epoll.node',
    'etc/edge-agent/config.yaml', 'etc/systemd/system/edge-agent.service', 'usr/local/bin/edge-agent']) {
    assert.ok(fs.existsSync(path.join(root, f)), `${f} installed`);
  }
  assert.equal(fs.readlinkSync(path.join(root, 'etc/systemd/system/multi-user.target.wants/edge-agent.service')), '/etc/systemd/system/edge-agent.service', 'enabled');
  assert.equal(fs.statSync(path.join(root, 'etc/edge-agent/config.yaml')).mode & 0o777, 0o640);
  if (withUsers) {
    const passwd = fs.readFileSync(path.join(root, 'etc/passwd'), 'utf8');
    assert.match(passwd, /^edge-agent:x:\d+:\d+:[^:]*:\/var\/lib\/edge-agent:\/usr\/sbin\/nologin$/m);
    const group = fs.readFileSync(path.join(root, 'etc/group'), 'utf8');
    assert.match(group, /^dialout:x:20:edge-agent$/m);
    assert.match(group, /^gpio:x:\d+:edge-agent$/m);
    const gid = /^edge-agent:x:(\d+):/m.exec(group)![1];
    assert.equal(fs.statSync(path.join(root, 'etc/edge-agent/config.yaml')).gid, Number(gid), 'config readable by the service group');
  }

  // An edited config survives a re-install.
  const conf = path.join(root, 'etc/edge-agent/config.yaml');
  fs.appendFileSync(conf, '# edited by the operator\n');
  install(root);
  assert.match(fs.readFileSync(conf, 'utf8'), /edited by the operator/);

  // The installed tree runs on its own node_modules subset (outside the repo: no fallback).
  const bundle = path.join(root, 'opt/edge-agent/edge-agent.mjs');
  const check = spawnSync(process.execPath, [bundle, 'check', '--config', conf], { encoding: 'utf8' });
  assert.equal(check.status, 0, `check of the installed example config: ${check.stdout}${check.stderr}`);
  const dir = tempDir();
  const cfg = writeConfig(dir, `
agent: { id: inst-board, dataDir: ${dir}/data }
uplink: { mqtt: { url: "mqtt://127.0.0.1:${await freePort()}" } }
sources: [{ id: gen, driver: sim, pollInterval: 50ms, points: [{ name: n, wave: counter }] }]
control: { socket: ${dir}/agent.sock }
`);
  const d = spawnDaemon(process.execPath, [bundle, 'run', '--config', cfg]);
  t.after(() => d.stop('SIGKILL'));
  await d.waitLog((l) => l.msg === 'edge-agent started', 20_000); // better-sqlite3 opened the outbox
  assert.equal(await d.stop(), 0);
  const addons = spawnSync(process.execPath, ['--input-type=module', '-e', `
    import { createRequire } from 'node:module';
    const r = createRequire(${JSON.stringify(bundle)});
    console.log(typeof r('@serialport/bindings-cpp').autoDetect().list, typeof r('epoll').Epoll);`], { encoding: 'utf8' });
  assert.equal(addons.stdout.trim(), 'function function', addons.stderr);

  install(root, '--uninstall');
  for (const f of ['opt/edge-agent', 'etc/systemd/system/edge-agent.service', 'usr/local/bin/edge-agent', 'etc/systemd/system/multi-user.target.wants/edge-agent.service']) {
    assert.ok(!fs.existsSync(path.join(root, f)), `${f} removed`);
  }
  assert.ok(fs.existsSync(conf), '--uninstall keeps the config');
  install(root, '--uninstall', '--purge');
  assert.ok(!fs.existsSync(path.join(root, 'etc/edge-agent')), '--purge removes the config');
  if (withUsers) assert.doesNotMatch(fs.readFileSync(path.join(root, 'etc/passwd'), 'utf8'), /^edge-agent:/m, '--purge removes the user');
});

test('install.sh refuses unknown options and --purge without --uninstall (exit 2)', () => {
  for (const args of [['--bogus'], ['--purge']]) {
    const r = spawnSync('sh', [INSTALL, ...args], { encoding: 'utf8' });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
  }
});


