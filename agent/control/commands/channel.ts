import crypto from 'node:crypto';
import fs from 'node:fs';
import type { MqttClient } from 'mqtt';
import type { Logger } from '../../../core/log.js';
import type { Agent } from '../../runtime/agent.js';
import { checkEnvelope } from './envelope.js';
import { CommandExecutor, type CommandResult } from './executor.js';
import { ReplayStore } from './replay.js';

/** Results kept while the link is down (published on reconnect, oldest dropped beyond). */
const MAX_PENDING_RESULTS = 100;

/**
 * `{prefix}/{agentId}/cmd` -> checks (retained, signature, freshness, replay id persisted first)
 * -> CommandExecutor (source, point, writable, type, range, device write, read-back)
 * -> `{prefix}/{agentId}/cmd/result`, QoS 1, not retained. Off without control.commands.publicKey:
 * there is no unsigned mode. Wired into the uplink hooks by the control plane, like remote config.
 */
export class CommandChannel {
  readonly executor: CommandExecutor;
  private agent: Agent | undefined;
  private client: MqttClient | undefined;
  private replay: ReplayStore | undefined;
  private readonly pending: CommandResult[] = [];
  /** Commands are checked and their ids persisted one at a time, so execution keeps arrival order. */
  private chain: Promise<void> = Promise.resolve();
  private readonly log: Logger;
  /** control.commands as at start: like the control socket, it changes with a restart only. */
  private cfg: { publicKey?: string; maxAge: number } | undefined;

  constructor(log: Logger) {
    this.log = log.child({ part: 'commands' });
    this.executor = new CommandExecutor(() => this.agent?.sources ?? [], this.log);
  }

  private get settings() {
    return this.cfg;
  }

  get enabled(): boolean {
    return !!this.cfg?.publicKey;
  }

  attach(agent: Agent): void {
    this.agent = agent;
    const s = (this.cfg = { ...agent.config.control.commands });
    if (s.publicKey) {
      // Every command would be rejected (signature): say why once, loudly, at start.
      try {
        const key = crypto.createPublicKey(fs.readFileSync(s.publicKey));
        if (key.asymmetricKeyType !== 'ed25519') throw new Error(`not an ed25519 public key (${key.asymmetricKeyType})`);
      } catch (e) {
        this.log.error({ publicKey: s.publicKey, err: (e as Error).message }, 'control.commands.publicKey unusable: every command will be rejected');
      }
      this.replay = new ReplayStore(agent.config.agent.dataDir, s.maxAge);
      this.replay.load(agent.clock.now());
      if (this.replay.loadError) this.log.error({ file: this.replay.file, err: this.replay.loadError }, 'seen command ids lost: commands issued before now are refused (they could be replays)');
      this.log.info({ topic: agent.uplink.topics.cmd, maxAge: s.maxAge, publicKey: s.publicKey }, 'commands on (signed, fresh, once)');
    } else this.log.info('commands off (no control.commands.publicKey)');
    if (this.client?.connected) this.onConnect(this.client);
  }

  /** Uplink hook: subscribe (QoS 1) and send results that waited for the link. */
  onConnect(client: MqttClient): void {
    this.client = client;
    const agent = this.agent;
    if (!agent || !this.enabled) return;
    client.subscribe(agent.uplink.topics.cmd, { qos: 1 }, (err) => {
      if (err) this.log.error({ err: err.message }, 'cannot subscribe to cmd');
    });
    for (const r of this.pending.splice(0)) this.publish(r);
  }

  onMessage(topic: string, payload: Buffer, retained: boolean): void {
    const agent = this.agent;
    if (!agent || !this.enabled || topic !== agent.uplink.topics.cmd) return;
    this.chain = this.chain.then(() => this.handle(payload, retained)).catch((e) => this.log.error({ err: (e as Error).stack }, 'command handling failed'));
  }

  /** Resolves when every command received so far has been checked and dispatched (tests, shutdown). */
  idle(): Promise<void> {
    return this.chain;
  }

  private async handle(payload: Buffer, retained: boolean): Promise<void> {
    const agent = this.agent!;
    const s = this.settings!;
    const now = agent.clock.now();
    const ex = this.executor;
    const c = checkEnvelope(payload, retained, { publicKey: s.publicKey!, maxAgeMs: s.maxAge, now });
    if (!c.ok) {
      this.publish(ex.reject({ id: c.id, source: c.cmd?.source, point: c.cmd?.point, value: c.cmd?.value }, 'mqtt', c.rule, c.error));
      return;
    }
    const cmd = c.cmd;
    const replay = this.replay!;
    if (replay.has(cmd.id)) {
      this.publish(ex.reject(cmd, 'mqtt', 'replay', `replay: command id "${cmd.id}" was already received; it runs once`));
      return;
    }
    if (cmd.ts < replay.notBefore) {
      this.publish(ex.reject(cmd, 'mqtt', 'replay-store', `replay-store: issued before the seen-ids file was lost (${replay.loadError}); it could be a replay`));
      return;
    }
    try {
      await replay.record(cmd.id, cmd.ts, now);
    } catch (e) {
      this.publish(ex.reject(cmd, 'mqtt', 'replay-store', `replay-store: cannot persist the command id (${(e as Error).message}); not executed`));
      return;
    }
    // Dispatched in order; the device queue runs it between polls. The next command's checks need not wait.
    void ex.execute({ id: cmd.id, source: cmd.source, point: cmd.point, value: cmd.value }, 'mqtt').then((r) => this.publish(r));
  }

  private publish(r: CommandResult): void {
    const agent = this.agent;
    const client = this.client;
    if (!agent || !client?.connected) {
      if (this.pending.push(r) > MAX_PENDING_RESULTS) this.pending.shift();
      return;
    }
    client.publish(agent.uplink.topics.cmdResult, JSON.stringify(r), { qos: 1, retain: false }, (err) => {
      if (err) this.log.warn({ id: r.id, err: err.message }, 'command result not delivered');
    });
  }

  status() {
    const s = this.settings;
    return {
      enabled: this.enabled,
      maxAge: s?.maxAge,
      idsKept: this.replay?.size ?? 0,
      ...(this.replay?.loadError ? { replayStoreError: this.replay.loadError } : {}),
      ...this.executor.status(),
    };
  }
}
