import type { Command } from 'commander';
import { CliError } from '../../../core/tool-errors.js';
import { standaloneContext } from '../../context.js';
import type { CliTools } from '../../tooling.js';
import { serialSchema, type SerialConfig } from '../schema.js';
import { createParser, type LineParser } from '../parsers/index.js';
import { SerialSource } from '../source.js';
import { LineRecorder, type MonitorEvent } from '../monitor.js';

interface MonitorOpts {
  direct?: boolean;
  socket?: string;
  port?: string;
  baud?: string;
  config?: string;
  source?: string;
  parse?: string;
  delimiter?: string;
  json?: boolean;
}

/** The serial source as configured (--config/--source), with flags overriding port and baud. */
function monitorConfig(tools: CliTools, opts: MonitorOpts): { cfg: SerialConfig; parser: LineParser | undefined } {
  let raw: Record<string, unknown> | undefined;
  if (opts.config || opts.source) {
    if (!opts.config || !opts.source) throw new CliError('--config and --source go together', 2);
    const src = tools.loadSources(opts.config).find((s) => s.id === opts.source);
    if (!src) throw new CliError(`no source "${opts.source}" in ${opts.config}`);
    if (src.driver !== 'serial') throw new CliError(`source "${opts.source}" uses driver ${src.driver}, not serial`);
    raw = { ...(src as unknown as SerialConfig) };
  }
  const baud = opts.baud === undefined ? undefined : Number(opts.baud);
  if (baud !== undefined && !(Number.isInteger(baud) && baud > 0)) throw new CliError(`--baud: expected a positive integer, got ${opts.baud}`, 2);
  const port = opts.port ?? (raw?.port as string | undefined);
  if (!port) throw new CliError('--port is required (or --config FILE --source ID)', 2);
  const input = {
    ...(raw ?? { id: 'monitor', driver: 'serial', parse: 'kv' }),
    port,
    ...(baud !== undefined ? { baudRate: baud } : {}),
    ...(opts.delimiter !== undefined ? { delimiter: opts.delimiter } : {}),
    ...(opts.parse !== undefined ? { parse: opts.parse } : {}),
  };
  const r = serialSchema.safeParse(input);
  if (!r.success) throw new CliError(r.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`).join('\n'), 2);
  // Without a parser from config or --parse, show raw lines only.
  const parser = raw || opts.parse ? createParser(r.data.parse) : undefined;
  return { cfg: r.data, parser };
}

/** One monitor event as printed: a JSON line, or the human form. */
function printer(json: boolean | undefined, out: (s: string) => void): (r: MonitorEvent) => void {
  return (r) => {
    if (json) return out(JSON.stringify(r));
    if (r.raw !== undefined) out(`< ${JSON.stringify(r.raw)}`);
    for (const [k, v] of Object.entries(r.points ?? {})) out(`    ${k} = ${JSON.stringify(v)}`);
    if (r.error) out(`    ! ${r.error.kind}: ${r.error.message}`);
  };
}

/**
 * Through the running daemon when one of its sources holds the port (SPEC: the two never fight over
 * it); the daemon's framing and parser apply. False when the caller must open the port itself.
 */
async function monitorViaDaemon(tools: CliTools, opts: MonitorOpts, cfg: SerialConfig, out: (s: string) => void): Promise<boolean> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const print = printer(opts.json, out);
  try {
    const routed = await tools.throughDaemon({ direct: opts.direct, socket: opts.socket, config: opts.config }, cfg.port, 'serial.monitor',
      { port: cfg.port, ...(opts.source ? { source: opts.source } : {}) },
      {
        signal: stop.signal,
        onEvent: (e) => {
          const r = e as MonitorEvent;
          if (r.raw === undefined && r.error === undefined) {
            // the first event names what is watched
            if (opts.baud !== undefined || opts.parse !== undefined || opts.delimiter !== undefined) {
              process.stderr.write('# --baud, --parse and --delimiter do not apply: the daemon\'s source reads with its own settings\n');
            }
            return;
          }
          print(r);
        },
      });
    return routed !== undefined;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function monitor(tools: CliTools, opts: MonitorOpts): Promise<void> {
  const { cfg, parser } = monitorConfig(tools, opts);
  const out = (s: string) => process.stdout.write(s + '\n');
  if (await monitorViaDaemon(tools, opts, cfg, out)) return;
  // --json: one record per line, the source's points and errors attached to the line being parsed.
  const recorder = opts.json ? new LineRecorder(printer(true, out)) : undefined;
  let opened = false;
  let openError: string | undefined;
  const ctx = standaloneContext({
    sourceId: cfg.id,
    emit(point, value) {
      if (recorder) recorder.point(point, value);
      else out(`    ${point} = ${JSON.stringify(value)}`);
    },
    error(kind, message) {
      // An open failure before the port ever opened is the exit line: said once, not per retry.
      if (!opened && kind === 'open') return void (openError ??= message);
      if (recorder) recorder.error(kind, message);
      else out(`    ! ${kind}: ${message}`);
    },
    setState(state, detail) {
      if (state === 'ok') opened = true;
      if (!opened && state === 'backing-off') return;
      process.stderr.write(`# ${state}${detail ? `: ${detail}` : ''}\n`);
    },
  });
  const nothing: LineParser = { parse: () => undefined };
  const source = new SerialSource(cfg, ctx, parser ?? nothing, {
    line(raw) {
      if (recorder) recorder.line(raw);
      else out(`< ${JSON.stringify(raw.toString('utf8'))}`);
    },
  });
  await source.open();
  // Fail fast on a wrong port or one held by another process; once open, ride out unplugs.
  const stop = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('interrupted'));
    process.once('SIGTERM', () => resolve('terminated'));
    const check = setInterval(() => {
      if (opened) clearInterval(check);
      else if (openError) {
        clearInterval(check);
        resolve('open-failed');
      }
    }, 20);
  });
  const why = await stop;
  await source.close();
  recorder?.flush();
  if (why === 'open-failed') {
    const hint = /lock/i.test(openError!) ? ' (another process holds it: is the edge-agent daemon running?)' : '';
    throw new CliError(`${openError}${hint}`);
  }
}

/** `serial monitor`. */
export function registerMonitor(serial: Command, tools: CliTools): void {
  serial
    .command('monitor')
    .description('print raw lines from a port and what the parser makes of them (Ctrl-C to stop)')
    .option('-p, --port <path>', 'serial device, e.g. /dev/ttyUSB0')
    .option('-b, --baud <rate>', 'baud rate (default: 9600, or the source\'s)')
    .option('-c, --config <file>', 'take framing, parser (and the daemon\'s control socket) from this config...')
    .option('-s, --source <id>', '...for this source id')
    .option('--parse <name>', 'parser without a config: kv, json or nmea')
    .option('--delimiter <text>', 'line end, escapes allowed (default: \\n; \\r\\n accepted)')
    .option('--json', 'one JSON object per line: {raw, points, error?}')
    .option('--direct', 'open the port even if the daemon runs (it must not hold the port)')
    .option('--socket <path>', `daemon control socket (default: control.socket of --config, else ${tools.defaultSocket})`)
    .addHelpText('after', `
While the daemon runs and one of its serial sources holds the port, the lines come from that
source (a tap on it: the daemon keeps reading, nothing is split between two readers) and are
shown with the daemon's own parser; --baud, --parse and --delimiter then do not apply. A line on
stderr says which path was taken. --direct opens the port itself. Exit 0 on Ctrl-C.`)
    .action((o: MonitorOpts) => monitor(tools, o));
}
