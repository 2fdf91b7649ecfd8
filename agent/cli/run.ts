import type { Command } from 'commander';
import { loadConfigFile, ConfigInvalidError } from '../config/load.js';
import { formatError } from '../config/errors.js';
import { createLogger, preparePretty } from '../../core/log.js';
import { Agent } from '../runtime/agent.js';
import { effectiveConfig, applySetAside } from '../control/startup.js';
import { ControlPlane } from '../control/plane.js';
import { DEFAULT_CONFIG } from './common.js';
import { linkSystemd } from '../systemd/index.js';

export function register(program: Command): void {
  program
    .command('run')
    .description('run the daemon (systemd runs this)')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
    .option('--mqtt-url <url>', 'override uplink.mqtt.url (demos, tests)')
    .action(async (opts: { config: string; mqttUrl?: string }) => {
      let loaded;
      try {
        loaded = loadConfigFile(opts.config);
      } catch (e) {
        if (e instanceof ConfigInvalidError) {
          for (const err of e.errors) process.stderr.write(formatError(err, e.file) + '\n');
          process.exitCode = 1;
          return;
        }
        throw e;
      }
      if (opts.mqttUrl) loaded.config.uplink.mqtt.url = opts.mqttUrl;
      // A persisted remote config newer than the file (version 0) wins (SPEC "Remote config").
      const eff = effectiveConfig(loaded);
      const config = eff.config;
      if (opts.mqttUrl) config.uplink.mqtt.url = opts.mqttUrl;
      await preparePretty();
      const log = createLogger(config.agent.logLevel);
      if (eff.warning) log.warn(eff.warning);
      try {
        applySetAside(eff, config.agent.dataDir);
      } catch (e) {
        // Not fatal: the file is what runs; the next start tries again (and warns again).
        log.error({ err: (e as Error).message }, 'cannot set the persisted remote config aside');
      }
      log.info({ version: eff.version, origin: eff.origin, source: eff.source }, 'config in force');
      const plane = new ControlPlane(log, loaded, opts.mqttUrl);
      const agent = await Agent.start(config, { log, info: { origin: eff.origin === 'remote' ? 'remote' : eff.source, version: eff.version, hash: eff.hash }, uplinkHooks: plane.hooks });
      await plane.attach(agent, { topic: eff.topic, appliedAt: eff.appliedAt });
      const systemd = linkSystemd(agent, log);
      let stopping = false;
      const stop = (sig: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal: sig }, 'shutting down');
        Promise.all([plane.stop().then(() => agent.stop()), systemd.stopping()]).then(
          () => process.exit(0),
          (e) => {
            log.error({ err: (e as Error).message }, 'error during shutdown');
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });
}
