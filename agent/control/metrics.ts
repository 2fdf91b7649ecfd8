import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from '../../core/log.js';
import type { Agent } from '../runtime/agent.js';
import { agentHealth, type Health } from './health.js';
import type { RemoteConfig } from './remote-config.js';
import type { CommandExecutor } from './commands/executor.js';

/**
 * Prometheus metrics (own Registry, no default collectors: they poll /proc and allocate on every
 * scrape, too much for a Pi for little gain). Everything but publish latency is read from the
 * runtime's own counters at scrape time, so the hot path pays nothing for metrics.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly latency: Histogram;
  private readonly loop = monitorEventLoopDelay({ resolution: 20 });

  sampleEventLoop(): void {
    this.loop.enable();
  }

  constructor(private readonly agent: Agent, private readonly remote: RemoteConfig, commands?: CommandExecutor) {
    const r = [this.registry];
    const a = () => this.agent;
    new Counter({
      name: 'edge_agent_readings_in_total', help: 'Readings produced by each source (before pipelines)', labelNames: ['source'], registers: r,
      collect() { this.reset(); for (const s of a().sources) this.inc({ source: s.id }, s.readingCount); },
    });
    new Counter({
      name: 'edge_agent_readings_out_total', help: 'Readings of each source that left the pipelines into the outbox', labelNames: ['source'], registers: r,
      collect() { this.reset(); for (const [source, c] of a().readingsOut) this.inc({ source }, c.n); },
    });
    new Counter({
      name: 'edge_agent_source_errors_total', help: 'Source errors by source and kind (timeout, parse, modbus-exception, ...)', labelNames: ['source', 'kind'], registers: r,
      collect() { this.reset(); for (const s of a().sources) for (const [kind, n] of Object.entries(s.errorCounts)) this.inc({ source: s.id, kind }, n); },
    });
    new Gauge({
      name: 'edge_agent_source_up', help: '1 when the source state is ok', labelNames: ['source', 'state'], registers: r,
      collect() { this.reset(); for (const s of a().sources) this.set({ source: s.id, state: s.currentState }, s.currentState === 'ok' ? 1 : 0); },
    });
    new Gauge({
      name: 'edge_agent_source_last_reading_timestamp_seconds', help: 'Wall time of the last reading of each source', labelNames: ['source'], registers: r,
      collect() { this.reset(); for (const s of a().sources) { const t = s.status().lastReadingAt; if (t) this.set({ source: s.id }, t / 1000); } },
    });
    new Counter({
      name: 'edge_agent_stage_drops_total', help: 'Readings dropped by pipeline stages, by reason', labelNames: ['reason'], registers: r,
      collect() { this.reset(); for (const [reason, n] of a().stageDrops) this.inc({ reason }, n); },
    });
    const ob = () => a().outbox.stats();
    new Gauge({ name: 'edge_agent_outbox_rows', help: 'Batches waiting in the outbox', registers: r, collect() { this.set(ob().rows); } });
    new Gauge({ name: 'edge_agent_outbox_readings', help: 'Readings waiting in the outbox', registers: r, collect() { this.set(ob().readings); } });
    new Gauge({ name: 'edge_agent_outbox_bytes', help: 'Payload bytes waiting in the outbox', registers: r, collect() { this.set(ob().payloadBytes); } });
    new Gauge({ name: 'edge_agent_outbox_file_bytes', help: 'Outbox database size on disk (db + wal)', registers: r, collect() { this.set(ob().fileBytes); } });
    new Gauge({ name: 'edge_agent_outbox_cap_bytes', help: 'buffer.maxBytes', registers: r, collect() { this.set(ob().capBytes); } });
    new Counter({
      name: 'edge_agent_outbox_dropped_total', help: 'Readings the outbox dropped, by reason (overflow, thinned, memory)', labelNames: ['reason'], registers: r,
      collect() { this.reset(); const s = ob(); this.inc({ reason: 'overflow' }, s.droppedOverflow); this.inc({ reason: 'thinned' }, s.droppedThinned); this.inc({ reason: 'memory' }, s.droppedMemory); },
    });
    new Counter({ name: 'edge_agent_outbox_write_errors_total', help: 'Failed outbox commits (disk full, read-only)', registers: r, collect() { this.reset(); this.inc(ob().writeErrors); } });
    // The same totals `status` shows: counters of uplinks replaced by config swaps included.
    const up = () => { const t = a().linkStats.totals(); return { connects: t.connects, disconnects: t.disconnects, published: t.batchesPublished, acked: t.batchesAcked, bytes: t.bytesPublished }; };
    new Gauge({ name: 'edge_agent_link_up', help: '1 when connected to the MQTT broker', registers: r, collect() { this.set(a().uplink.linkState === 'connected' ? 1 : 0); } });
    new Counter({ name: 'edge_agent_link_connects_total', help: 'Successful MQTT connections', registers: r, collect() { this.reset(); this.inc(up().connects); } });
    new Counter({ name: 'edge_agent_link_reconnects_total', help: 'MQTT connections after the first (link drops, config swaps)', registers: r, collect() { this.reset(); this.inc(Math.max(0, up().connects - 1)); } });
    new Counter({ name: 'edge_agent_link_disconnects_total', help: 'Lost MQTT connections', registers: r, collect() { this.reset(); this.inc(up().disconnects); } });
    new Counter({ name: 'edge_agent_batches_published_total', help: 'Batches published', registers: r, collect() { this.reset(); this.inc(up().published); } });
    new Counter({ name: 'edge_agent_batches_acked_total', help: 'Batches acknowledged by the broker', registers: r, collect() { this.reset(); this.inc(up().acked); } });
    new Counter({ name: 'edge_agent_published_bytes_total', help: 'Batch bytes published (after gzip)', registers: r, collect() { this.reset(); this.inc(up().bytes); } });
    this.latency = new Histogram({
      name: 'edge_agent_publish_latency_seconds', help: 'Publish to broker acknowledgement', registers: r,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    });
    // Enabled only while the endpoint is served (serveMetrics): its timer wakes the loop every 20 ms.
    const loop = this.loop;
    new Gauge({
      name: 'edge_agent_event_loop_lag_seconds', help: 'Event loop delay since the previous scrape', labelNames: ['quantile'], registers: r,
      collect() {
        this.set({ quantile: '0.5' }, loop.percentile(50) / 1e9);
        this.set({ quantile: '0.99' }, loop.percentile(99) / 1e9);
        this.set({ quantile: '1' }, loop.max / 1e9);
        loop.reset();
      },
    });
    new Gauge({ name: 'edge_agent_resident_memory_bytes', help: 'Resident set size', registers: r, collect() { this.set(process.memoryUsage.rss()); } });
    new Gauge({ name: 'edge_agent_config_version', help: 'Version of the config in force (0 = local file)', registers: r, collect() { this.set(a().info.version); } });
    const counts = this.remote.counts;
    new Counter({
      name: 'edge_agent_config_changes_total', help: 'Config changes by outcome', labelNames: ['status'], registers: r,
      collect() { this.reset(); for (const [status, n] of Object.entries(counts)) this.inc({ status }, n); },
    });
    if (commands) {
      new Counter({
        name: 'edge_agent_commands_total', help: 'Commands (writes to devices) by outcome: done, rejected, failed', labelNames: ['status'], registers: r,
        collect() { this.reset(); for (const [status, n] of Object.entries(commands.counts)) this.inc({ status }, n); },
      });
      new Counter({
        name: 'edge_agent_commands_rejected_total', help: 'Rejected commands by rule (signature, stale, replay, range, ...)', labelNames: ['rule'], registers: r,
        collect() { this.reset(); for (const [rule, n] of commands.rejections) this.inc({ rule }, n); },
      });
    }
  }

  /** Uplink hook: one histogram observation per acknowledged batch. */
  observeAck(ms: number): void {
    this.latency.observe(ms / 1000);
  }

  /**
   * Healthy when the outbox takes writes (open, last commit worked) AND sources work (none
   * configured, or at least one not down); see health.ts.
   */
  health(): Health {
    return agentHealth(this.agent);
  }

  close(): void {
    this.loop.disable();
  }
}

/** GET /metrics (Prometheus text) and /healthz (200/503 with a JSON reason). */
export async function serveMetrics(m: Metrics, listen: string, log: Logger): Promise<http.Server> {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i) || '0.0.0.0';
  const port = Number(listen.slice(i + 1));
  m.sampleEventLoop();
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
    } else if (url === '/metrics') {
      m.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': m.registry.contentType }).end(text),
        (e) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(e)),
      );
    } else if (url === '/healthz') {
      const h = m.health();
      res.writeHead(h.healthy ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(h) + '\n');
    } else res.writeHead(404, { 'content-type': 'text/plain' }).end('try /metrics or /healthz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
  server.on('error', (e) => log.error({ err: e.message }, 'metrics server error'));
  log.info({ listen }, 'metrics on /metrics and /healthz');
  return server;
}
