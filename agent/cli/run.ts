import type { Command } from 'commander';
import { loadConfigFile, ConfigInvalidError, type LoadedConfig } from '../config/load.js';
import { formatError } from '../config/errors.js';
import { preflight } from '../config/preflight.js';
import { createLogger, preparePretty } from '../../core/log.js';
import { Agent } from '../runtime/agent.js';
import { effectiveConfig, applySetAside } from '../control/startup.js';
import { DataDirLock, DataDirBusyError } from '../runtime/data-dir-lock.js';
import { ControlPlane } from '../control/plane.js';
import { DEFAULT_CONFIG } from './common.js';
import { linkSystemd } from '../systemd/index.js';

/**
 * Refusals before READY are one line each on stderr (the journal shows them as the unit's
 * failure) and exit 1; nothing has been started yet, so nothing is left running.
 */
function refuse(lines: string[]): void {
  for (const l of lines) process.stderr.write(`${l}\n`);
  process.exitCode = 1;
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run the daemon (systemd runs this)')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
    .option('--mqtt-url <url>', 'override uplink.mqtt.url (demos, tests)')
    .action(async (opts: { config: string; mqttUrl?: string }) => {
      let loaded: LoadedConfig;
      try {
        loaded = loadConfigFile(opts.config);
      } catch (e) {
        if (e instanceof ConfigInvalidError) return refuse(e.errors.map((err) => formatError(err, e.file)));
        return refuse([`cannot load ${opts.config}: ${(e as Error).message}`]);
      }
      if (opts.mqttUrl) loaded.config.uplink.mqtt.url = opts.mqttUrl;
      // A persisted remote config newer than the file (version 0) wins (SPEC "Remote config").
      const eff = effectiveConfig(loaded);
      const config = eff.config;
      if (opts.mqttUrl) config.uplink.mqtt.url = opts.mqttUrl;
      // The same checks as `check`, on the config about to be put in force (SPEC "Operation").
      const pre = preflight(config, eff.origin === 'file' ? loaded.where : undefined);
      if (pre.errors.length) return refuse(pre.errors.map((err) => formatError(err, eff.origin === 'file' ? loaded.file : eff.source)));
      let lock: DataDirLock | undefined;
      let lockError: string | undefined;
      try {
        lock = DataDirLock.acquire(config.agent.dataDir);
      } catch (e) {
        // Another daemon holds it: refuse. Any other failure means the data dir cannot be written
        // (read-only, missing mount, wrong owner); the daemon runs on then (the outbox holds readings
        // in memory), unguarded, and says so below.
        if (e instanceof DataDirBusyError) return refuse([e.message]);
        lockError = (e as Error).message;
      }
      await preparePretty();
      const log = createLogger(config.agent.logLevel);
      if (!lock) log.warn({ dataDir: config.agent.dataDir, err: lockError }, 'cannot lock agent.dataDir (not writable): a second daemon on it would not be refused');
      // The data dir warning is for `check` (often run as another user); here the outbox says it itself.
      for (const w of pre.warnings) if (w.path !== 'agent.dataDir') log.warn({ configKey: w.path }, formatError(w));
      if (eff.warning) log.warn(eff.warning);
      try {
        applySetAside(eff, config.agent.dataDir);
      } catch (e) {
        // Not fatal: the file is what runs; the next start tries again (and warns again).
        log.error({ err: (e as Error).message }, 'cannot set the persisted remote config aside');
      }
      log.info({ version: eff.version, origin: eff.origin, source: eff.source }, 'config in force');
      let plane: ControlPlane | undefined;
      let agent: Agent | undefined;
      try {
        plane = new ControlPlane(log, loaded, opts.mqttUrl);
        agent = await Agent.start(config, { log, info: { origin: eff.origin === 'remote' ? 'remote' : eff.source, version: eff.version, hash: eff.hash }, uplinkHooks: plane.hooks });
        await plane.attach(agent, { topic: eff.topic, appliedAt: eff.appliedAt });
      } catch (e) {
        // Something the checks could not foresee: one line, everything started so far stopped.
        log.error({ err: (e as Error).message }, 'cannot start');
        process.stderr.write(`cannot start: ${(e as Error).message}\n`);
        await plane?.stop().catch(() => {});
        await agent?.stop().catch(() => {});
        lock?.release();
        process.exit(1);
      }
      const systemd = linkSystemd(agent, log);
      let stopping = false;
      const stop = (sig: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal: sig }, 'shutting down');
        Promise.all([plane.stop().then(() => agent.stop()), systemd.stopping()]).then(
          () => {
            lock?.release();
            process.exit(0);
          },
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
