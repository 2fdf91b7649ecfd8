import type { Command } from 'commander';
import { loadConfigFile, ConfigInvalidError } from '../config/load.js';
import { formatError } from '../config/errors.js';

export function register(program: Command): void {
  program
    .command('check')
    .description('validate a config file and print every error (exit 1 if any)')
    .requiredOption('-c, --config <file>', 'config file')
    .option('--json', 'machine-readable output')
    .action((opts: { config: string; json?: boolean }) => {
      try {
        const { config } = loadConfigFile(opts.config);
        if (opts.json) process.stdout.write(JSON.stringify({ ok: true, file: opts.config, agent: config.agent.id, sources: config.sources.length }) + '\n');
        else process.stdout.write(`${opts.config}: ok (agent ${config.agent.id}, ${config.sources.length} source${config.sources.length === 1 ? '' : 's'}, ${config.pipelines.length} pipeline${config.pipelines.length === 1 ? '' : 's'})\n`);
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
