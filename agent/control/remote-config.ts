import type { MqttClient } from 'mqtt';
import type { Logger } from '../../core/log.js';
import type { Config } from '../config/schema.js';
import type { LoadedConfig } from '../config/load.js';
import { reloadLocal } from './local-file.js';
import type { Agent, ConfigInfo } from '../runtime/agent.js';
import { redactUrl } from '../uplink/mqtt-uplink.js';
import { checkPush } from './push.js';
import { mergeRemote } from './merge.js';
import { configHash } from './signature.js';
import { loadFloor, loadPersisted, savePersisted, saveFloor, setAside, type FloorReason } from './persist.js';
import { remotePolicy, pushTopics, type RemotePolicy } from './remote-policy.js';
import { awaitProof, formatWindow, type Proof } from './confirm.js';
import { redactConfig } from './redact.js';

export type ConfigStatus = 'applied' | 'rejected' | 'rolled-back';

/** The retained `.../config/state` document (SPEC "MQTT"). */
export interface ConfigState {
  version: number;
  hash: string;
  status: ConfigStatus;
  errors: string[];
  at: number;
  /** What asked for the change: a push, or the local file (SIGHUP / `config.reload` / `config revert`). */
  source: 'mqtt' | 'file';
  /** The version running after this event. */
  running: number;
}

export interface RemoteConfigOptions {
  log: Logger;
  local: LoadedConfig;
  /** `run --mqtt-url`: re-applied to every config taken from the file. */
  mqttUrlOverride?: string;
}

/** What `config show` prints: the config in force and where it came from. */
export interface ConfigShow extends ConfigInfo {
  source: string;
  topic?: string;
  appliedAt?: number;
  remoteConfig: RemotePolicy;
  config: Config;
}

/**
 * Config changes as transactions: a push on `.../config/set` (or a group's), a reload of the local
 * file, or a revert to it, is checked (push.ts), applied (Agent.apply), made to prove itself
 * (confirm.ts; else rolled back), persisted, and reported on `.../config/state`. One at a time.
 */
export class RemoteConfig {
  private agent: Agent | undefined;
  private client: MqttClient | undefined;
  private chain: Promise<void> = Promise.resolve();
  private minVersion = 0;
  private minWhy: FloorReason = 'rolled-back';
  private local: LoadedConfig;
  private subscribed: string[] = [];
  /** Topic and time of the remote config in force (`config show`). */
  private remoteMeta: { topic?: string; appliedAt?: number } = {};
  state: ConfigState | undefined;
  readonly counts: Record<ConfigStatus, number> = { applied: 0, rejected: 0, 'rolled-back': 0 };
  private readonly log: Logger;

  constructor(private readonly opts: RemoteConfigOptions) {
    this.local = opts.local;
    this.log = opts.log.child({ part: 'config' });
    const floor = loadFloor(opts.local.config.agent.dataDir);
    if (floor) this.raiseFloor(floor.version, floor.why, false);
  }

  get policy(): RemotePolicy {
    return remotePolicy(this.agent?.config ?? this.local.config);
  }

  attach(agent: Agent, meta: { topic?: string; appliedAt?: number } = {}): void {
    this.agent = agent;
    this.remoteMeta = meta;
    const p = this.policy;
    // SPEC: allowUnsigned is warned at every start; off is said once, so nobody waits for a push that cannot come.
    if (p.mode === 'unsigned') this.log.warn(`remote config accepts UNSIGNED pushes: ${p.note}`);
    else if (p.mode === 'off') this.log.info(`remote config off: ${p.note}; pushes on config/set are not subscribed`);
    else this.log.info({ groups: p.groups }, 'remote config on: pushes must be signed');
    if (this.client?.connected) this.onConnect(this.client);
  }

  /** Uplink hook: (re)subscribe and republish the last state (brokers without persistence forget it). */
  onConnect(client: MqttClient): void {
    this.client = client;
    const agent = this.agent;
    if (!agent) return;
    this.subscribed = [];
    this.syncSubscriptions();
    if (this.state) agent.uplink.publishRetained(agent.uplink.topics.configState, this.state);
  }

  /** Subscribe to the push topics the local policy asks for, drop the others (after a reload). */
  private syncSubscriptions(): void {
    const agent = this.agent;
    const client = this.client;
    if (!agent || !client?.connected) return;
    const want = this.policy.mode === 'off' ? [] : pushTopics(agent.config, agent.uplink.topics.configSet);
    const drop = this.subscribed.filter((t) => !want.includes(t));
    const add = want.filter((t) => !this.subscribed.includes(t));
    if (drop.length) client.unsubscribe(drop);
    if (add.length) client.subscribe(add, { qos: 1 }, (err) => err && this.log.error({ err: err.message, topics: add }, 'cannot subscribe to config/set'));
    this.subscribed = want;
  }

  onMessage(topic: string, payload: Buffer, retained: boolean): void {
    const agent = this.agent;
    if (!agent || !this.subscribed.includes(topic) || this.policy.mode === 'off') return;
    this.enqueue(() => this.handlePush(topic, payload, retained));
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

  private raiseFloor(version: number, why: FloorReason, persist = true): void {
    if (version <= this.minVersion) return;
    this.minVersion = version;
    this.minWhy = why;
    if (!persist || !this.agent) return;
    try {
      saveFloor(this.agent.config.agent.dataDir, { version, why });
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'cannot persist the config version floor; a replay is refused only until restart');
    }
  }

  private async handlePush(topic: string, payload: Buffer, retained: boolean): Promise<void> {
    const agent = this.agent!;
    const info = agent.info;
    const res = checkPush(payload, { running: agent.config, runningVersion: info.version, minVersion: this.minVersion, minWhy: this.minWhy, baseDir: this.local.baseDir });
    if (!res.ok) {
      // A retained push is delivered again on every reconnect: the one in force, or the one just
      // reported, is not news (and must not overwrite the retained state each time).
      if (retained && res.version === info.version && res.hash === info.hash) return;
      if (retained && this.state && res.version === this.state.version && res.hash === this.state.hash) return;
      if (retained && res.version !== undefined && res.version <= this.minVersion) return;
      this.report('rejected', res.version ?? 0, res.hash ?? '', res.errors, 'mqtt');
      return;
    }
    this.log.info({ version: res.version, hash: res.hash, topic }, 'config push accepted; applying');
    const rc = agent.config.control.remoteConfig;
    const ok = await this.transact(res.config, { version: res.version, hash: res.hash, origin: 'remote' }, 'mqtt', rc.confirm.require, rc.confirm.window);
    if (!ok) return;
    const errors: string[] = [];
    const appliedAt = Date.now();
    try {
      savePersisted(agent.config.agent.dataDir, { version: res.version, hash: res.hash, config: res.raw, appliedAt, signature: res.signature, topic });
    } catch (e) {
      // Running, but a restart would fall back: say so rather than pretend.
      errors.push(`persist: ${(e as Error).message}; the config runs but will not survive a restart`);
    }
    this.remoteMeta = { topic, appliedAt };
    this.report('applied', res.version, res.hash, errors, 'mqtt');
  }

  /** The local file again; undefined (and `rejected` reported) when broken or it changes a restart-only key. */
  private loadLocal(): LoadedConfig | undefined {
    const r = reloadLocal(this.local.file, this.agent!.config, this.log, this.opts.mqttUrlOverride);
    if (r.ok) return r.loaded;
    this.report('rejected', 0, '', r.errors, 'file');
    return undefined;
  }

  /** SIGHUP / `config.reload`: the local file through the same validate-and-apply path. */
  reload(): Promise<void> {
    return this.enqueue(async () => {
      const agent = this.agent!;
      const loaded = this.loadLocal();
      if (!loaded) return;
      let next: Config = loaded.config;
      let info: ConfigInfo = { version: 0, hash: configHash(loaded.raw ?? {}), origin: loaded.file };
      if (agent.info.version > 0 && remotePolicy(loaded.config).mode !== 'off') {
        // A newer remote config stays in force (as after a restart); the file supplies its local-only keys.
        let p;
        try {
          p = loadPersisted(agent.config.agent.dataDir);
        } catch (e) {
          this.log.warn({ err: (e as Error).message }, 'persisted remote config unreadable; the local file goes in force');
        }
        const merged = p && mergeRemote(p.config, loaded.config, loaded.baseDir, false);
        if (p && merged && merged.ok) {
          next = merged.config;
          info = { version: p.version, hash: p.hash, origin: 'remote' };
          this.log.info({ version: p.version }, 'local file reloaded; remote config stays in force (newer), the file supplies agent.id, agent.dataDir, control');
        }
      } else if (agent.info.version > 0) this.setAsideInForce(`remote config is off (${remotePolicy(loaded.config).note})`, 'set-aside');
      this.local = loaded;
      // The operator at the board asked for this file: only a new uplink must show it reaches a broker.
      if (await this.transact(next, info, 'file', ['link'], agent.config.control.remoteConfig.confirm.window)) this.report('applied', info.version, info.hash, [], 'file');
      this.syncSubscriptions();
    });
  }

  /**
   * `edge-agent config revert`: back to the local file, version 0; the remote config is moved aside
   * (never loaded again) and its version becomes the floor, so a replay of it is refused.
   */
  revert(): Promise<ConfigState | undefined> {
    let out: ConfigState | undefined;
    return this.enqueue(async () => {
      const agent = this.agent!;
      const loaded = this.loadLocal();
      if (!loaded) return void (out = this.state);
      const from = agent.info.version;
      this.local = loaded;
      // No proof asked: this is the way back, and the file is what the operator trusts.
      const ok = await this.transact(loaded.config, { version: 0, hash: configHash(loaded.raw ?? {}), origin: loaded.file }, 'file', [], 0);
      if (ok) {
        const aside = from > 0 ? this.setAsideInForce(`reverted by \`edge-agent config revert\``, 'reverted', from) : undefined;
        this.remoteMeta = {};
        this.log.warn({ from, aside }, from > 0 ? 'config reverted to the local file' : 'config revert: the local file was already in force; reloaded it');
        this.report('applied', 0, agent.info.hash, [], 'file');
      }
      this.syncSubscriptions();
      out = this.state;
    }).then(() => out);
  }

  private setAsideInForce(why: string, floor: FloorReason, version = this.agent!.info.version): string | undefined {
    const dataDir = this.agent!.config.agent.dataDir;
    this.raiseFloor(version, floor);
    try {
      const to = setAside(dataDir);
      if (to) this.log.warn({ version, aside: to }, `remote config version ${version} kept aside: ${why}`);
      return to;
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'cannot move the remote config aside; it would come back at the next start');
      return undefined;
    }
  }

  /**
   * Apply `next`; if applying fails or the proof does not come within the window, put the previous
   * config back and report `rolled-back` naming what failed. True when `next` stands (not yet reported).
   */
  private async transact(next: Config, info: ConfigInfo, source: 'mqtt' | 'file', require: readonly Proof[], windowMs: number): Promise<boolean> {
    const agent = this.agent!;
    const prevVersion = agent.info.version;
    let applied;
    try {
      applied = await agent.apply(next, info);
    } catch (e) {
      // SPEC: applying failed, the previous config is back (Agent.apply restored it).
      if (source === 'mqtt') this.raiseFloor(info.version, 'rolled-back');
      this.report('rolled-back', info.version, info.hash, [`apply failed: ${(e as Error).message}; previous config (version ${prevVersion}) restored`], source);
      return false;
    }
    const asked = require.filter((r) => r !== 'link' || applied.uplinkChanged || source === 'mqtt');
    if (asked.length) {
      this.log.info({ version: info.version, require: asked, withinMs: windowMs, url: redactUrl(next.uplink.mqtt.url) }, 'config applied; waiting for it to prove itself before confirming');
      const failures = await awaitProof(agent, { require: asked, windowMs, uplinkChanged: applied.uplinkChanged, readingsAtApply: applied.readingsAtApply, clock: agent.clock });
      if (failures.length) {
        this.log.error({ version: info.version, failures, withinMs: windowMs }, `config did not prove itself within ${formatWindow(windowMs)}; rolling back to the previous config`);
        try {
          await agent.apply(applied.previous.config, applied.previous.info);
        } catch (e) {
          failures.push(`rollback: ${(e as Error).message}`);
        }
        if (source === 'mqtt') this.raiseFloor(info.version, 'rolled-back');
        this.report('rolled-back', info.version, info.hash, [...failures, `previous config (version ${agent.info.version}) restored`], source);
        return false;
      }
    }
    return true;
  }

  show(): ConfigShow {
    const agent = this.agent!;
    const info = agent.info;
    const remote = info.version > 0;
    return { ...info, source: remote ? 'remote push' : info.origin, ...(remote ? this.remoteMeta : {}), remoteConfig: this.policy, config: redactConfig(agent.config) };
  }

  private report(status: ConfigStatus, version: number, hash: string, errors: string[], source: 'mqtt' | 'file'): void {
    const agent = this.agent!;
    this.counts[status]++;
    this.state = { version, hash, status, errors, at: Date.now(), source, running: agent.info.version };
    const lvl = status === 'applied' ? 'info' : status === 'rejected' ? 'warn' : 'error';
    this.log[lvl]({ version, hash: hash || undefined, status, errors, source }, `config ${status}`);
    // Not connected (rollback in progress, link down): onConnect publishes it once reconnected.
    agent.uplink.publishRetained(agent.uplink.topics.configState, this.state);
    if (status === 'applied') agent.uplink.publishStatus();
  }
}
