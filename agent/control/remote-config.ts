import type { MqttClient } from 'mqtt';
import type { Logger } from '../../core/log.js';
import type { Config } from '../config/schema.js';
import { loadConfigFile, ConfigInvalidError, type LoadedConfig } from '../config/load.js';
import { formatError } from '../config/errors.js';
import type { Agent } from '../runtime/agent.js';
import { swapConfig } from '../runtime/reconfigure.js';
import { redactUrl } from '../uplink/mqtt-uplink.js';
import { checkPush } from './push.js';
import { mergeRemote } from './merge.js';
import { configHash } from './signature.js';
import { loadPersisted, savePersisted } from './persist.js';

export type ConfigStatus = 'applied' | 'rejected' | 'rolled-back';

/** The retained `.../config/state` document (SPEC "MQTT"). */
export interface ConfigState {
  version: number;
  hash: string;
  status: ConfigStatus;
  errors: string[];
  at: number;
  /** What asked for the change: a push, or the local file (SIGHUP / `config.reload`). */
  source: 'mqtt' | 'file';
  /** The version running after this event. */
  running: number;
}

/** SPEC: new uplink settings must reach a broker within 60 s, else the previous config returns. */
export const ROLLBACK_AFTER_MS = 60_000;

export interface RemoteConfigOptions {
  log: Logger;
  local: LoadedConfig;
  /** `run --mqtt-url`: re-applied to every config taken from the file. */
  mqttUrlOverride?: string;
  rollbackAfterMs?: number;
}

/**
 * Config changes as transactions: a push on `.../config/set` or a reload of the local file is
 * checked (push.ts), swapped in (runtime/reconfigure.ts), confirmed (the new uplink reaches a broker
 * within 60 s, else rolled back), persisted, and reported on `.../config/state`. One change at a time.
 */
export class RemoteConfig {
  private agent: Agent | undefined;
  private client: MqttClient | undefined;
  private chain: Promise<void> = Promise.resolve();
  private minVersion = 0;
  private local: LoadedConfig;
  state: ConfigState | undefined;
  readonly counts: Record<ConfigStatus, number> = { applied: 0, rejected: 0, 'rolled-back': 0 };
  private readonly log: Logger;

  constructor(private readonly opts: RemoteConfigOptions) {
    this.local = opts.local;
    this.log = opts.log.child({ part: 'config' });
  }

  attach(agent: Agent): void {
    this.agent = agent;
    if (this.client?.connected) this.onConnect(this.client);
  }

  /** Uplink hook: (re)subscribe and republish the last state (brokers without persistence forget it). */
  onConnect(client: MqttClient): void {
    this.client = client;
    const agent = this.agent;
    if (!agent) return;
    if (agent.config.control.remoteConfig.enabled) {
      client.subscribe(agent.uplink.topics.configSet, { qos: 1 }, (err) => {
        if (err) this.log.error({ err: err.message }, 'cannot subscribe to config/set');
      });
    }
    if (this.state) agent.uplink.publishRetained(agent.uplink.topics.configState, this.state);
  }

  onMessage(topic: string, payload: Buffer, retained: boolean): void {
    const agent = this.agent;
    if (!agent || topic !== agent.uplink.topics.configSet || !agent.config.control.remoteConfig.enabled) return;
    this.enqueue(() => this.handlePush(payload, retained));
  }

  /** Serialise transactions; a failure in one never blocks the next. */
  private enqueue(fn: () => Promise<void>): Promise<void> {
    const run = this.chain.then(fn).catch((e) => this.log.error({ err: (e as Error).stack }, 'config transaction failed'));
    this.chain = run;
    return run;
  }

  /** Resolves when every queued change is done (tests, shutdown). */
  idle(): Promise<void> {
    return this.chain;
  }

  private async handlePush(payload: Buffer, retained: boolean): Promise<void> {
    const agent = this.agent!;
    const res = checkPush(payload, { running: agent.config, runningVersion: agent.configVersion, minVersion: this.minVersion, baseDir: this.local.baseDir });
    if (!res.ok) {
      // A retained push is delivered again on every reconnect: the one in force, or the one just
      // reported, is not news (and must not overwrite the retained state each time).
      if (retained && res.version === agent.configVersion && res.hash === agent.configHash) return;
      if (retained && this.state && res.version === this.state.version && res.hash === this.state.hash) return;
      this.report('rejected', res.version ?? 0, res.hash ?? '', res.errors, 'mqtt');
      return;
    }
    this.log.info({ version: res.version, hash: res.hash }, 'config push accepted; applying');
    await this.transact(res.config, res.version, res.hash, res.raw, 'mqtt');
  }

  /** SIGHUP / `config.reload`: the local file through the same validate-and-swap path. */
  reload(): Promise<void> {
    return this.enqueue(async () => {
      const agent = this.agent!;
      let loaded: LoadedConfig;
      try {
        loaded = loadConfigFile(this.local.file);
      } catch (e) {
        if (!(e instanceof ConfigInvalidError)) throw e;
        this.report('rejected', 0, '', e.errors.map((x) => formatError(x, e.file)), 'file');
        return;
      }
      if (this.opts.mqttUrlOverride) loaded.config.uplink.mqtt.url = this.opts.mqttUrlOverride;
      const restart: string[] = [];
      if (loaded.config.agent.dataDir !== agent.config.agent.dataDir) restart.push('agent.dataDir');
      if (loaded.config.agent.id !== agent.config.agent.id) restart.push('agent.id');
      if (restart.length) {
        this.report('rejected', 0, configHash(loaded.raw ?? {}), restart.map((k) => `${k}: changed in ${loaded.file}; this takes a restart`), 'file');
        return;
      }
      if (loaded.config.control.socket !== agent.config.control.socket || loaded.config.control.metrics?.listen !== agent.config.control.metrics?.listen) {
        this.log.warn('control.socket / control.metrics changed: they take effect after a restart');
      }
      let next: Config = loaded.config;
      let version = 0;
      let hash = configHash(loaded.raw ?? {});
      if (agent.configVersion > 0) {
        // A newer remote config stays in force (as after a restart); the file supplies its local-only keys.
        const p = loadPersisted(agent.config.agent.dataDir);
        const merged = p && mergeRemote(p.config, loaded.config, loaded.baseDir, false);
        if (p && merged && merged.ok) {
          next = merged.config;
          version = p.version;
          hash = p.hash;
          this.log.info({ version }, 'local file reloaded; remote config stays in force (newer), the file supplies agent.id, agent.dataDir, control');
        }
      }
      this.local = loaded;
      await this.transact(next, version, hash, undefined, 'file');
    });
  }

  private async transact(next: Config, version: number, hash: string, raw: Record<string, unknown> | undefined, source: 'mqtt' | 'file'): Promise<void> {
    const agent = this.agent!;
    const prev = { version: agent.configVersion, hash: agent.configHash, origin: agent.configOrigin };
    let swap;
    try {
      swap = await swapConfig(agent, next);
    } catch (e) {
      // SPEC: applying failed, the previous config is back (swapConfig restored it).
      if (source === 'mqtt') this.minVersion = Math.max(this.minVersion, version);
      this.report('rolled-back', version, hash, [`apply failed: ${(e as Error).message}; previous config (version ${agent.configVersion}) restored`], source);
      return;
    }
    agent.configVersion = version;
    agent.configHash = hash;
    agent.configOrigin = raw ? 'remote' : this.local.file;
    if (swap.uplinkChanged) {
      const limit = this.opts.rollbackAfterMs ?? ROLLBACK_AFTER_MS;
      const url = redactUrl(next.uplink.mqtt.url);
      this.log.info({ url, withinMs: limit }, 'uplink settings changed; waiting for the new connection before confirming');
      if (!(await connectedWithin(agent, limit))) {
        this.log.error({ url, withinMs: limit, version }, 'new uplink settings did not reach a broker; rolling back to the previous config');
        await swapConfig(agent, swap.previous);
        agent.configVersion = prev.version;
        agent.configHash = prev.hash;
        agent.configOrigin = prev.origin;
        if (source === 'mqtt') this.minVersion = Math.max(this.minVersion, version);
        this.report('rolled-back', version, hash, [`uplink.mqtt: ${url} not reached within ${Math.round(limit / 1000)} s; previous config (version ${prev.version}) restored`], source);
        return;
      }
    }
    const errors: string[] = [];
    if (raw) {
      try {
        savePersisted(agent.config.agent.dataDir, { version, hash, config: raw, appliedAt: Date.now() });
      } catch (e) {
        // Running, but a restart would fall back: say so rather than pretend.
        errors.push(`persist: ${(e as Error).message}; the config runs but will not survive a restart`);
      }
    }
    this.report('applied', version, hash, errors, source);
    agent.uplink.publishStatus();
  }

  private report(status: ConfigStatus, version: number, hash: string, errors: string[], source: 'mqtt' | 'file'): void {
    const agent = this.agent!;
    this.counts[status]++;
    this.state = { version, hash, status, errors, at: Date.now(), source, running: agent.configVersion };
    const lvl = status === 'applied' ? 'info' : status === 'rejected' ? 'warn' : 'error';
    this.log[lvl]({ version, hash: hash || undefined, status, errors, source }, `config ${status}`);
    // Not connected (rollback in progress, link down): onConnect publishes it once reconnected.
    agent.uplink.publishRetained(agent.uplink.topics.configState, this.state);
  }
}

function connectedWithin(agent: Agent, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    agent.uplink.connected.then(() => {
      clearTimeout(t);
      resolve(true);
    });
  });
}
