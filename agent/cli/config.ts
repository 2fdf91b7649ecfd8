import type { Command } from 'commander';
import { stringify } from 'yaml';
import { loadConfigFile, ConfigInvalidError, type LoadedConfig } from '../config/load.js';
import { formatError } from '../config/errors.js';
import { effectiveConfig } from '../control/startup.js';
import { remotePolicy, type RemotePolicy } from '../control/remote-policy.js';
import { loadPersisted, saveFloor, setAside } from '../control/persist.js';
import { controlRequest, ControlRequestError } from '../control/client.js';
import { redactConfig } from '../control/redact.js';
import { CliError, DEFAULT_CONFIG } from './common.js';
import { socketPath, targetOptions, type TargetOptions } from './control-target.js';

type Opts = TargetOptions & { dataDir?: string; json?: boolean; hideConfig?: boolean };

interface Shown {
  running: boolean;
  version: number;
  origin: string;
  source: string;
  hash: string;
  topic?: string;
  appliedAt?: number;
  remoteConfig: RemotePolicy;
  warning?: string;
  config: unknown;
}

/** The daemon's answer, or undefined when no daemon listens (then the files are read directly). */
async function daemon(o: Opts, method: string): Promise<unknown | undefined> {
  const sock = socketPath(o);
  try {
    return await controlRequest(sock, method, {}, { timeoutMs: method === 'config.revert' ? 120_000 : 10_000 });
  } catch (e) {
    if (!(e instanceof ControlRequestError)) throw e;
    if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') return undefined;
    throw new CliError(e.message);
  }
}

function localFile(o: Opts): LoadedConfig {
  try {
    const loaded = loadConfigFile(o.config ?? DEFAULT_CONFIG);
    if (o.dataDir) loaded.config.agent.dataDir = o.dataDir;
    return loaded;
  } catch (e) {
    if (e instanceof ConfigInvalidError) throw new CliError(e.errors.map((x) => formatError(x, e.file)).join('\n'));
    throw e;
  }
}

const iso = (t?: number) => (t ? new Date(t).toISOString() : '-');
function modeLine(p: RemotePolicy): string {
  const groups = p.groups.length ? `, groups ${p.groups.join(', ')}` : '';
  return p.mode === 'signed' ? `on, signed pushes only${groups}` : p.mode === 'unsigned' ? `on, UNSIGNED pushes accepted${groups} (${p.note})` : `off (${p.note})`;
}

function printShown(s: Shown, o: Opts): void {
  if (o.json) return void process.stdout.write(JSON.stringify(s) + '\n');
  const out = [
    `in force       ${s.version === 0 ? `local file ${s.source} (version 0)` : `remote push version ${s.version}${s.topic ? ` via ${s.topic}` : ''}, applied ${iso(s.appliedAt)}`}`,
    `hash           sha256 ${s.hash || '-'}`,
    `remote config  ${modeLine(s.remoteConfig)}`,
    `daemon         ${s.running ? 'running (this is what it runs)' : 'not running (this is what a start would put in force)'}`,
  ];
  if (s.warning) out.push(`warning        ${s.warning}`);
  process.stdout.write(out.join('\n') + '\n');
  if (!o.hideConfig) process.stdout.write('---\n' + stringify(s.config));
}

export function register(program: Command): void {
  const cfg = program.command('config').description('the config in force: show it, revert to the local file');
  const common = (c: Command) => targetOptions(c)
    .option('-d, --data-dir <dir>', 'data dir holding the persisted remote config, when the daemon is stopped (default: agent.dataDir of --config)')
    .option('--json', 'machine-readable output');

  common(cfg.command('show'))
    .description(`what is in force: from where (local file or remote push), version, hash, the config itself; asks the running daemon, else reads --config (default: ${DEFAULT_CONFIG}) and its data dir`)
    .option('--header-only', 'only where it came from, version and hash; not the config itself')
    .action(async (o: Opts & { headerOnly?: boolean }) => {
      const opts: Opts = { ...o, hideConfig: o.headerOnly };
      const r = (await daemon(opts, 'config.show')) as Omit<Shown, 'running'> | undefined;
      if (r) return printShown({ running: true, ...r }, opts);
      const loaded = localFile(opts);
      const eff = effectiveConfig(loaded);
      printShown({ running: false, version: eff.version, origin: eff.origin, source: eff.source, hash: eff.hash, topic: eff.topic, appliedAt: eff.appliedAt, remoteConfig: remotePolicy(loaded.config), warning: eff.warning, config: redactConfig(eff.config) }, opts);
    });

  common(cfg.command('revert'))
    .description('back to the local file (version 0); the remote config is kept aside (remote-config.aside.json) and a replay of its version refused; through the running daemon, else directly in the data dir (run as the daemon\'s user)')
    .action(async (o: Opts) => {
      const r = (await daemon(o, 'config.revert')) as { status: string; version: number; errors: string[]; running: number } | null | undefined;
      if (r !== undefined) {
        if (!r || r.status !== 'applied') throw new CliError(`revert failed: ${r ? `${r.status}: ${r.errors.join('; ')}` : 'no answer'}`);
        if (o.json) return void process.stdout.write(JSON.stringify({ reverted: true, running: true, state: r }) + '\n');
        return void process.stdout.write(`reverted: the running daemon now runs the local file (version 0)\n`);
      }
      const loaded = localFile(o);
      const dataDir = loaded.config.agent.dataDir;
      let p;
      try {
        p = loadPersisted(dataDir);
      } catch (e) {
        p = { version: 0, unreadable: (e as Error).message };
      }
      if (!p) {
        if (o.json) return void process.stdout.write(JSON.stringify({ reverted: false, running: false, reason: 'no persisted remote config' }) + '\n');
        return void process.stdout.write(`nothing to revert: no remote config in ${dataDir}; a start runs ${loaded.file} (version 0)\n`);
      }
      let aside: string | undefined;
      try {
        aside = setAside(dataDir);
        if (p.version > 0) saveFloor(dataDir, { version: p.version, why: 'reverted' });
      } catch (e) {
        throw new CliError(`${(e as Error).message} (run as the daemon's user, e.g. sudo -u edge-agent)`);
      }
      if (o.json) return void process.stdout.write(JSON.stringify({ reverted: true, running: false, version: p.version, aside }) + '\n');
      process.stdout.write(`reverted (daemon not running): remote config version ${p.version} kept aside as ${aside}; the next start runs ${loaded.file} (version 0)\n`);
    });
}
