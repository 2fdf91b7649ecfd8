import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { SerialPort } from 'serialport';
import { loadSerialPort } from '../../drivers/serialport-loader.js';
import { CliError } from './common.js';
import { loadConfigFile, ConfigInvalidError } from '../config/load.js';
import { formatError } from '../config/errors.js';
import { silentLogger } from '../../core/log.js';
import { systemClock } from '../../core/clock.js';
import type { Value } from '../../core/reading.js';
import type { SourceContext } from '../../drivers/types.js';
import { serialSchema, type SerialConfig } from '../../drivers/serial/schema.js';
import { createParser, type LineParser } from '../../drivers/serial/parsers/index.js';
import { SerialSource } from '../../drivers/serial/source.js';
import { DEFAULT_SOCKET, throughDaemon } from './control-target.js';

type PortInfo = Awaited<ReturnType<typeof SerialPort.list>>[number];

/**
 * serialport lists Linux ports through udevadm; minimal images and containers lack it, so fall
 * back to the device nodes themselves (no USB ids then, but /dev/serial/by-id names them).
 */
async function listPorts(): Promise<PortInfo[]> {
  try {
    return await (await loadSerialPort()).list();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    process.stderr.write('# udevadm not found: listing /dev without USB details\n');
  }
  const byId = new Map<string, string>();
  try {
    for (const n of fs.readdirSync('/dev/serial/by-id')) byId.set(fs.realpathSync(path.join('/dev/serial/by-id', n)), n);
  } catch {
    // no USB serial adapters plugged in
  }
  return fs.readdirSync('/dev')
    .filter((n) => /^(ttyUSB|ttyACM|ttyAMA|ttyS|ttyXRUSB|rfcomm)\d+$|^serial\d$/.test(n))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .map((n) => {
      const p = `/dev/${n}`;
      return { path: p, pnpId: byId.get(p), manufacturer: undefined, serialNumber: undefined, locationId: undefined, productId: undefined, vendorId: undefined };
    });
}

async function list(opts: { json?: boolean }): Promise<void> {
  const ports = await listPorts();
  if (opts.json) {
    process.stdout.write(JSON.stringify(ports) + '\n');
    return;
  }
  if (ports.length === 0) {
    process.stdout.write('no serial ports found\n');
    return;
  }
  for (const p of ports) {
    const id = p.vendorId ? `${p.vendorId}:${p.productId ?? '?'}` : '';
    const extra = [p.manufacturer, id, p.serialNumber ? `serial ${p.serialNumber}` : '', p.pnpId ?? ''].filter(Boolean).join('  ');
    process.stdout.write(`${p.path}${extra ? `  ${extra}` : ''}\n`);
  }
}

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
function monitorConfig(opts: MonitorOpts): { cfg: SerialConfig; parser: LineParser | undefined } {
  let raw: Record<string, unknown> | undefined;
  if (opts.config || opts.source) {
    if (!opts.config || !opts.source) throw new CliError('--config and --source go together', 2);
    let loaded;
    try {
      loaded = loadConfigFile(opts.config);
    } catch (e) {
      if (e instanceof ConfigInvalidError) throw new CliError(e.errors.map((x) => formatError(x, e.file)).join('\n'));
      throw e;
    }
    const src = loaded.config.sources.find((s) => s.id === opts.source);
    if (!src) throw new CliError(`no source "${opts.source}" in ${opts.config}`);
    if (src.driver !== 'serial') throw new CliError(`source "${opts.source}" uses driver ${src.driver}, not serial`);
    raw = { ...(src as SerialConfig) };
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

/** A line as the daemon's `serial.monitor` streams it (same as a --json record here). */
interface LineRecord {
  raw?: string;
  points?: Record<string, Value>;
  error?: { kind: string; message: string };
}

/**
 * Through the running daemon when one of its sources holds the port (SPEC: the two never fight over
 * it); the daemon's framing and parser apply. False when the caller must open the port itself.
 */
async function monitorViaDaemon(opts: MonitorOpts, cfg: SerialConfig, out: (s: string) => void): Promise<boolean> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const routed = await throughDaemon({ direct: opts.direct, socket: opts.socket, config: opts.config }, cfg.port, 'serial.monitor',
      { port: cfg.port, ...(opts.source ? { source: opts.source } : {}) },
      {
        signal: stop.signal,
        onEvent: (e) => {
          const r = e as LineRecord;
          if (r.raw === undefined && r.error === undefined) {
            // the first event names what is watched
            if (opts.baud !== undefined || opts.parse !== undefined || opts.delimiter !== undefined) {
              process.stderr.write('# --baud, --parse and --delimiter do not apply: the daemon\'s source reads with its own settings\n');
            }
            return;
          }
          if (opts.json) return out(JSON.stringify(r));
          if (r.raw !== undefined) out(`< ${JSON.stringify(r.raw)}`);
          for (const [k, v] of Object.entries(r.points ?? {})) out(`    ${k} = ${JSON.stringify(v)}`);
          if (r.error) out(`    ! ${r.error.kind}: ${r.error.message}`);
        },
      });
    return routed !== undefined;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function monitor(opts: MonitorOpts): Promise<void> {
  const { cfg, parser } = monitorConfig(opts);
  const out = (s: string) => process.stdout.write(s + '\n');
  if (await monitorViaDaemon(opts, cfg, out)) return;
  // One record per line in --json mode; errors and points attach to the line being parsed.
  let rec: { raw: string; points: Record<string, Value>; error?: { kind: string; message: string } } | undefined;
  const flush = () => {
    if (rec) out(JSON.stringify(rec));
    rec = undefined;
  };
  let opened = false;
  let openError: string | undefined;
  const ctx: SourceContext = {
    sourceId: cfg.id,
    log: silentLogger,
    clock: systemClock,
    dataDir: '/nonexistent',
    emit(point, value) {
      if (opts.json) {
        if (rec) rec.points[point] = value;
      } else out(`    ${point} = ${JSON.stringify(value)}`);
    },
    error(kind, message) {
      // An open failure before the port ever opened is the exit line: said once, not per retry.
      if (!opened && kind === 'open') return void (openError ??= message);
      if (opts.json) {
        if (rec) rec.error = { kind, message };
        else out(JSON.stringify({ error: { kind, message } }));
      } else out(`    ! ${kind}: ${message}`);
    },
    setState(state, detail) {
      if (state === 'ok') opened = true;
      if (!opened && state === 'backing-off') return;
      process.stderr.write(`# ${state}${detail ? `: ${detail}` : ''}\n`);
    },
  };
  const nothing: LineParser = { parse: () => undefined };
  const source = new SerialSource(cfg, ctx, parser ?? nothing, {
    line(raw) {
      const text = raw.toString('utf8');
      if (opts.json) {
        flush();
        rec = { raw: text, points: {} };
        queueMicrotask(flush);
      } else out(`< ${JSON.stringify(text)}`);
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
  flush();
  if (why === 'open-failed') {
    const hint = /lock/i.test(openError!) ? ' (another process holds it: is the edge-agent daemon running?)' : '';
    throw new CliError(`${openError}${hint}`);
  }
}

export function register(program: Command): void {
  const serial = program.command('serial').description('serial line diagnostics');
  serial
    .command('list')
    .description('list serial ports (USB adapters with vendor/product ids)')
    .option('--json', 'machine-readable output')
    .action(list);
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
    .option('--socket <path>', `daemon control socket (default: control.socket of --config, else ${DEFAULT_SOCKET})`)
    .addHelpText('after', `
While the daemon runs and one of its serial sources holds the port, the lines come from that
source (a tap on it: the daemon keeps reading, nothing is split between two readers) and are
shown with the daemon's own parser; --baud, --parse and --delimiter then do not apply. A line on
stderr says which path was taken. --direct opens the port itself. Exit 0 on Ctrl-C.`)
    .action(monitor);
}
