import type { Command } from 'commander';
import { loadConfigFile, ConfigInvalidError } from '../config/load.js';
import { formatError, type ConfigError } from '../config/errors.js';
import { preflight } from '../config/preflight.js';
import { effectiveConfig } from '../control/startup.js';
import { remotePolicy } from '../control/remote-policy.js';
import { plural } from './common.js';

export function register(program: Command): void {
  program
    .command('check')
    .description('validate a config file and print every error (exit 1 if any); say which config a start would put in force')
    .requiredOption('-c, --config <file>', 'config file')
    .option('-d, --data-dir <dir>', 'look for the persisted remote config here (default: agent.dataDir of the file)')
    .option('--json', 'machine-readable output')
    .action((opts: { config: string; dataDir?: string; json?: boolean }) => {
      const fail = (errors: ConfigError[], warnings: ConfigError[] = []) => {
        if (opts.json) process.stdout.write(JSON.stringify({ ok: false, file: opts.config, errors, warnings }) + '\n');
        else {
          for (const err of errors) process.stderr.write(formatError(err, opts.config) + '\n');
          for (const w of warnings) process.stderr.write(`warning: ${formatError(w, opts.config)}\n`);
          process.stderr.write(`${plural(errors.length, 'error')}${warnings.length ? `, ${plural(warnings.length, 'warning')}` : ''}\n`);
        }
        process.exitCode = 1;
      };
      let loaded;
      try {
        loaded = loadConfigFile(opts.config);
      } catch (e) {
        if (!(e instanceof ConfigInvalidError)) throw e;
        return fail(e.errors);
      }
      const { config } = loaded;
      if (opts.dataDir) config.agent.dataDir = opts.dataDir;
      // What `run` refuses (files, ports) is an error here too; what only looks wrong is a warning.
      const pre = preflight(config, loaded.where);
      if (pre.errors.length) return fail(pre.errors, pre.warnings);
      const eff = effectiveConfig(loaded);
      const inForce = { origin: eff.origin, version: eff.version, source: eff.source, hash: eff.hash, appliedAt: eff.appliedAt, warning: eff.warning };
      const rc = remotePolicy(config);
      if (opts.json) {
        process.stdout.write(JSON.stringify({ ok: true, file: opts.config, agent: config.agent.id, sources: config.sources.length, warnings: pre.warnings, inForce, remoteConfig: rc }) + '\n');
        return;
      }
      for (const w of pre.warnings) process.stderr.write(`warning: ${formatError(w, opts.config)}\n`);
      process.stdout.write(`${opts.config}: ok (agent ${config.agent.id}, ${plural(config.sources.length, 'source')}, ${plural(config.pipelines.length, 'pipeline')}${pre.warnings.length ? `, ${plural(pre.warnings.length, 'warning')}` : ''})\n`);
      process.stdout.write(eff.origin === 'remote'
        ? `in force: remote config version ${eff.version} (${eff.source}, applied ${new Date(eff.appliedAt ?? 0).toISOString()}, ${plural(eff.config.sources.length, 'source')}); it is newer than this file (version 0)\n`
        : `in force: this file (version 0)${eff.warning ? `; ${eff.warning}` : '; no persisted remote config'}\n`);
      process.stdout.write(`remote config: ${rc.mode === 'signed' ? 'on, signed pushes only' : rc.mode === 'unsigned' ? `on, UNSIGNED pushes accepted: ${rc.note}` : `off: ${rc.note}`}${rc.mode !== 'off' && rc.groups.length ? `; also ${plural(rc.groups.length, 'group').replace(/^\d+ /, '')} ${rc.groups.join(', ')}` : ''}\n`);
    });
}
