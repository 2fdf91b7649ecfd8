import type { Command } from 'commander';
import { loadConfigFile, ConfigInvalidError } from '../config/load.js';
import { formatError } from '../config/errors.js';
import { effectiveConfig } from '../control/startup.js';
import { remotePolicy } from '../control/remote-policy.js';

export function register(program: Command): void {
  program
    .command('check')
    .description('validate a config file and print every error (exit 1 if any); say which config a start would put in force')
    .requiredOption('-c, --config <file>', 'config file')
    .option('-d, --data-dir <dir>', 'look for the persisted remote config here (default: agent.dataDir of the file)')
    .option('--json', 'machine-readable output')
    .action((opts: { config: string; dataDir?: string; json?: boolean }) => {
      try {
        const loaded = loadConfigFile(opts.config);
        const { config } = loaded;
        if (opts.dataDir) config.agent.dataDir = opts.dataDir;
        const eff = effectiveConfig(loaded);
        const inForce = { origin: eff.origin, version: eff.version, source: eff.source, hash: eff.hash, appliedAt: eff.appliedAt, warning: eff.warning };
        const rc = remotePolicy(config);
        if (opts.json) process.stdout.write(JSON.stringify({ ok: true, file: opts.config, agent: config.agent.id, sources: config.sources.length, inForce, remoteConfig: rc }) + '\n');
        else {
          process.stdout.write(`${opts.config}: ok (agent ${config.agent.id}, ${config.sources.length} source${config.sources.length === 1 ? '' : 's'}, ${config.pipelines.length} pipeline${config.pipelines.length === 1 ? '' : 's'})\n`);
          process.stdout.write(eff.origin === 'remote'
            ? `in force: remote config version ${eff.version} (${eff.source}, applied ${new Date(eff.appliedAt ?? 0).toISOString()}, ${eff.config.sources.length} sources); it is newer than this file (version 0)\n`
            : `in force: this file (version 0)${eff.warning ? `; ${eff.warning}` : '; no persisted remote config'}\n`);
          process.stdout.write(`remote config: ${rc.mode === 'signed' ? 'on, signed pushes only' : rc.mode === 'unsigned' ? `on, UNSIGNED pushes accepted: ${rc.note}` : `off: ${rc.note}`}${rc.mode !== 'off' && rc.groups.length ? `; also group${rc.groups.length === 1 ? '' : 's'} ${rc.groups.join(', ')}` : ''}\n`);
        }
      } catch (e) {
        if (!(e instanceof ConfigInvalidError)) throw e;
        if (opts.json) process.stdout.write(JSON.stringify({ ok: false, file: opts.config, errors: e.errors }) + '\n');
        else {
          for (const err of e.errors) process.stderr.write(formatError(err, e.file) + '\n');
          process.stderr.write(`${e.errors.length} error${e.errors.length === 1 ? '' : 's'}\n`);
        }
        process.exitCode = 1;
      }
    });
}
