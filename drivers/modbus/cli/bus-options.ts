import type { Command } from 'commander';
import { CliError } from '../../../core/tool-errors.js';
import { parseDuration } from '../../../core/units.js';
import type { CliTools, DaemonTarget } from '../../tooling.js';
import { RtuTransport } from '../rtu-transport.js';
import { TcpTransport } from '../tcp-transport.js';

/** Bus options shared by the subcommands that talk to a bus (`read`, `scan`, ...). */
export interface BusOpts extends DaemonTarget {
  port?: string;
  baud: string;
  parity: string;
  dataBits: string;
  stopBits: string;
  host?: string;
  tcpPort: string;
  timeout: string;
  json?: boolean;
}

export const usage = (msg: string) => new CliError(msg, 2);

export function int(v: string, what: string, min: number, max: number): number {
  if (!/^\d+$/.test(v)) throw usage(`${what}: expected an integer, got "${v}"`);
  const n = Number(v);
  if (n < min || n > max) throw usage(`${what}: ${n} is outside ${min}..${max}`);
  return n;
}

export function oneOf<T extends string>(v: string, what: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v)) throw usage(`${what}: expected one of ${allowed.join(', ')}, got "${v}"`);
  return v as T;
}

export function busOptions(cmd: Command, tools: CliTools): Command {
  return cmd
    .option('--port <path>', 'RTU: serial port (prefer /dev/serial/by-id/...)')
    .option('--baud <n>', 'RTU: baud rate', '9600')
    .option('--parity <p>', 'RTU: none, even or odd', 'none')
    .option('--data-bits <n>', 'RTU: 7 or 8', '8')
    .option('--stop-bits <n>', 'RTU: 1 or 2', '1')
    .option('--host <host[:port]>', 'TCP: device or gateway address')
    .option('--tcp-port <n>', 'TCP: port (when not given in --host)', '502')
    .option('--timeout <duration>', 'answer timeout per request', '1s')
    .option('--json', 'machine-readable output')
    .option('--direct', 'open the port even if the daemon runs (it must not hold the port)')
    .option('--socket <path>', `daemon control socket (default: control.socket of --config, else ${tools.defaultSocket})`)
    .option('-c, --config <file>', 'config file of the daemon (to find its control socket)');
}

export const VIA_DAEMON = `
While the daemon runs and one of its sources uses the port (or host:port), the request goes
through the daemon: it waits its turn on the daemon's bus queue between polls, so the two never
fight over the line. A line on stderr says which path was taken. --direct opens the port itself.`;

/** The bus the options name, checked before anything is opened. */
export interface BusTarget {
  rtu?: { path: string; baudRate: number; parity: 'none' | 'even' | 'odd'; dataBits: 7 | 8; stopBits: 1 | 2 };
  tcp?: { host: string; port: number };
  label: string;
  timeoutMs: number;
}

export function busTarget(o: BusOpts): BusTarget {
  const timeoutMs = parseDuration(o.timeout);
  if (timeoutMs === undefined || timeoutMs < 1) throw usage(`--timeout: invalid duration "${o.timeout}"`);
  if (!!o.port === !!o.host) throw usage('give exactly one of --port (Modbus RTU) or --host (Modbus TCP)');
  if (o.port) {
    const rtu = {
      path: o.port,
      baudRate: int(o.baud, '--baud', 50, 4_000_000),
      parity: oneOf(o.parity, '--parity', ['none', 'even', 'odd'] as const),
      dataBits: int(o.dataBits, '--data-bits', 7, 8) as 7 | 8,
      stopBits: int(o.stopBits, '--stop-bits', 1, 2) as 1 | 2,
    };
    return { rtu, label: o.port, timeoutMs };
  }
  const m = /^(.*?)(?::(\d+))?$/.exec(o.host!)!;
  const port = m[2] ? int(m[2], '--host port', 1, 65535) : int(o.tcpPort, '--tcp-port', 1, 65535);
  return { tcp: { host: m[1], port }, label: `${m[1]}:${port}`, timeoutMs };
}

/** How the control methods name the bus. */
export const busParams = (b: BusTarget) => (b.rtu ? { port: b.rtu.path } : { host: b.tcp!.host, tcpPort: b.tcp!.port });

export interface OpenBus {
  label: string;
  transport: RtuTransport | TcpTransport;
  timeoutMs: number;
}

/** Opens the bus directly (no daemon holds it), once: no reconnects for a one-off command. */
export async function openBus(b: BusTarget): Promise<OpenBus> {
  const transport = b.rtu
    ? new RtuTransport(b.rtu, { reconnect: false })
    : new TcpTransport(b.tcp!.host, b.tcp!.port, { reconnect: false, connectTimeoutMs: Math.max(b.timeoutMs, 3000) });
  try {
    await transport.connectOnce();
  } catch (e) {
    const msg = (e as Error).message;
    const hint = /lock/i.test(msg) ? ' (another process holds it: is the edge-agent daemon running?)' : '';
    throw new CliError(msg + hint);
  }
  return { label: transport.label, transport, timeoutMs: b.timeoutMs };
}
