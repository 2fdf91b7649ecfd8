import path from 'node:path';
import type http from 'node:http';
import type { Logger } from '../../core/log.js';
import type { LoadedConfig } from '../config/load.js';
import type { UplinkHooks } from '../uplink/mqtt-uplink.js';
import type { Agent } from '../runtime/agent.js';
import { RemoteConfig } from './remote-config.js';
import { ControlServer, ControlError } from './server.js';
import type { Metrics } from './metrics.js';
import { agentHealth } from './health.js';
import { registerDiagnostics } from './diagnostics.js';
import { CommandChannel } from './commands/channel.js';
import { registerWriteDiagnostics } from './commands/diagnostics.js';

/**
 * Everything that manages the daemon rather than moves data: remote config, SIGHUP reload, the
 * control socket and the metrics endpoint. Created before the Agent (its uplink hooks are needed
 * at construction), attached once the Agent runs.
 */
export class ControlPlane {
  readonly remote: RemoteConfig;
  readonly server: ControlServer;
  /** Writes to devices from `.../cmd`; `commands.executor` is what other origins (Sparkplug DCMD) call. */
  readonly commands: CommandChannel;
  metrics: Metrics | undefined;
  private http: http.Server | undefined;
  private agent: Agent | undefined;
  readonly hooks: UplinkHooks;
  private readonly onHup = () => {
    if (!this.agent) return void this.log.warn('SIGHUP ignored: still starting');
    this.log.info('SIGHUP: reloading the local config file');
    void this.remote.reload();
  };

  constructor(private readonly log: Logger, local: LoadedConfig, mqttUrlOverride?: string) {
    this.remote = new RemoteConfig({ log, local, mqttUrlOverride });
    this.server = new ControlServer(log.child({ part: 'control' }));
    this.commands = new CommandChannel(log);
    this.hooks = {
      onConnect: (c) => {
        this.remote.onConnect(c);
        this.commands.onConnect(c);
      },
      onMessage: (t, p, retained) => {
        this.remote.onMessage(t, p, retained);
        this.commands.onMessage(t, p, retained);
      },
      onAck: (ms) => this.metrics?.observeAck(ms),
      deviceWrite: (req, origin) => this.commands.executor.execute(req, origin),
    };
    // Node's default for SIGHUP is to exit: take it over before anything else can go wrong.
    process.on('SIGHUP', this.onHup);
  }

  /** `remote`: topic and time of a persisted remote config put in force at start (`config show`). */
  async attach(agent: Agent, remote: { topic?: string; appliedAt?: number } = {}): Promise<void> {
    this.agent = agent;
    this.remote.attach(agent, remote);
    this.commands.attach(agent);
    const s = this.server;
    s.register('status', 'sources, link, outbox, config in force', () => this.status());
    s.register('config.state', 'the last config change and its outcome (as on .../config/state)', () => this.remote.state ?? null);
    s.register('config.reload', 'reload the local config file (same as SIGHUP)', async () => {
      await this.remote.reload();
      return this.remote.state;
    });
    s.register('config.show', 'the config in force, where it came from, version and hash', () => this.remote.show());
    s.register('config.revert', 'back to the local file (version 0); the remote config is kept aside', () => this.remote.revert());
    s.register('health', 'what /healthz answers', () => this.health());
    const debugDir = () => path.join(agent.config.agent.dataDir, 'debug');
    s.register('debug.profile', 'CPU profile for {seconds}; returns the .cpuprofile file', async (p, ctx) => (await import('./debug.js')).cpuProfile(debugDir(), Number(p.seconds ?? 10), ctx.signal));
    s.register('debug.heap', 'heap snapshot; returns the .heapsnapshot file', async () => (await import('./debug.js')).heapSnapshot(debugDir()));
    registerDiagnostics(s, agent.driverHost);
    registerWriteDiagnostics(s, this.commands.executor, () => agent.sources, agent.driverHost, this.log.child({ part: 'control' }));
    const control = agent.config.control;
    try {
      await s.listen(control.socket);
      this.log.info({ socket: control.socket }, 'control socket listening');
    } catch (e) {
      // The daemon's job is the data: a control socket problem is logged, not fatal.
      this.log.error({ socket: control.socket, err: (e as Error).message }, 'control socket unavailable; `edge-agent status` will not work');
    }
    if (control.metrics) {
      try {
        // prom-client is loaded only when metrics are asked for: start time and heap on boards without.
        const { Metrics, serveMetrics } = await import('./metrics.js');
        this.metrics = new Metrics(agent, this.remote, this.commands.executor);
        this.http = await serveMetrics(this.metrics, control.metrics.listen, this.log);
      } catch (e) {
        this.log.error({ listen: control.metrics.listen, err: (e as Error).message }, 'metrics endpoint unavailable');
      }
    }
  }

  health() {
    if (!this.agent) throw new ControlError('not started', 'starting');
    return agentHealth(this.agent);
  }

  status() {
    const agent = this.agent!;
    return { ...agent.status(), configState: this.remote.state ?? null, remoteConfig: this.remote.policy, health: agentHealth(agent), commands: this.commands.status() };
  }

  async stop(): Promise<void> {
    process.off('SIGHUP', this.onHup);
    await this.server.close();
    if (this.http) await new Promise<void>((r) => this.http!.close(() => r()));
    this.metrics?.close();
  }
}
