import type { Command } from 'commander';
import { CliError } from './common.js';
import { loadConfigFile, ConfigInvalidError } from '../config/load.js';
import { formatError } from '../config/errors.js';
import { parseDuration } from '../../core/units.js';
import { decodeRead, planRead, probeAnswer, type ReadResult, type ReadSpec, type ScanResult } from '../../drivers/modbus/oneshot.js';
import { DEFAULT_SOCKET, throughDaemon, type TargetOptions } from './control-target.js';
import { ModbusRequestError } from '../../drivers/modbus/errors.js';
import { RtuTransport } from '../../drivers/modbus/rtu-transport.js';
import { TcpTransport } from '../../drivers/modbus/tcp-transport.js';
import { planSource } from '../../drivers/modbus/cycles.js';
import { describeRequest } from '../../drivers/modbus/planner.js';
import type { ModbusConfig } from '../../drivers/modbus/config.js';
import { registerModbusWrite } from './modbus-write.js';
import {
  DATA_TYPES, MAX_BITS, READ_FC, TABLES, isBitTable, parseOrderLabel, type DataType, type Order, type Table,
} from '../../drivers/modbus/types.js';

/** Bus options shared by `modbus read` and `modbus scan`. */
export interface BusOpts {
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

export function busOptions(cmd: Command): Command {
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
    .option('--socket <path>', `daemon control socket (default: control.socket of --config, else ${DEFAULT_SOCKET})`)
    .option('-c, --config <file>', 'config file of the daemon (to find its control socket)');
}

export const VIA_DAEMON = `
While the daemon runs and one of its sources uses the port (or host:port), the request goes
through the daemon: it waits its turn on the daemon's bus queue between polls, so the two never
fight over the line. A line on stderr says which path was taken. --direct opens the port itself.`;

/** The bus the options name, checked before anything is opened. */
interface BusTarget {
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

interface OpenBus {
  label: string;
  transport: RtuTransport | TcpTransport;
  timeoutMs: number;
}

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

interface ReadOpts extends BusOpts, TargetOptions {
  unit: string;
  table: string;
  address: string;
  count: string;
  type?: string;
  byteOrder: string;
  wordOrder: string;
  order?: string;
  direct?: boolean;
}

async function readCmd(o: ReadOpts, cmd: Command): Promise<void> {
  const table = oneOf(o.table, '--table', TABLES) as Table;
  const bits = isBitTable(table);
  const spec: ReadSpec = {
    unit: int(o.unit, '--unit', 0, 255),
    table,
    address: int(o.address, '--address', 0, 65535),
    count: int(o.count, '--count', 1, MAX_BITS),
    type: (o.type ? oneOf(o.type, '--type', DATA_TYPES) : bits ? 'bool' : 'uint16') as DataType,
    byteOrder: oneOf(o.byteOrder, '--byte-order', ['big', 'little'] as const) as Order,
    wordOrder: oneOf(o.wordOrder, '--word-order', ['big', 'little'] as const) as Order,
  };
  if (o.order) {
    const ord = parseOrderLabel(o.order);
    if (!ord) throw usage(`--order: expected ABCD, CDAB, BADC or DCBA, got "${o.order}"`);
    ({ byteOrder: spec.byteOrder, wordOrder: spec.wordOrder } = ord);
  }
  let plan;
  try {
    plan = planRead(spec);
  } catch (e) {
    throw usage(`--${(e as Error).message}`);
  }
  const target = busTarget(o);

  let res: ReadResult;
  const routed = await throughDaemon(o, target.label, 'modbus.read', { ...busParams(target), ...spec }, { timeoutMs: 120_000 });
  if (routed) {
    const { via, ...r } = routed.result as ReadResult & { via: { source: string; settings: Record<string, unknown> } };
    res = r;
    // The daemon's line settings win: say so when the operator asked for others.
    if (target.rtu) {
      const asked = { baud: 'baudRate', parity: 'parity', dataBits: 'dataBits', stopBits: 'stopBits' } as const;
      for (const [opt, key] of Object.entries(asked)) {
        const mine = (target.rtu as Record<string, unknown>)[key];
        if (cmd.getOptionValueSource(opt) === 'cli' && via.settings[key] !== mine) {
          process.stderr.write(`# the daemon's bus (source ${via.source}) runs with ${key} ${String(via.settings[key])}; --${opt.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} ${String(mine)} did not apply\n`);
        }
      }
    }
  } else {
    const bus = await openBus(target);
    try {
      let n: number;
      try {
        n = await bus.transport.read(spec.unit, plan.fc, spec.address, plan.quantity, bus.timeoutMs);
      } catch (e) {
        const err = e as ModbusRequestError;
        throw new CliError(`unit ${spec.unit} ${table} ${spec.address}..${spec.address + plan.quantity - 1} on ${bus.label}: ${err.message}`);
      }
      res = decodeRead(spec, plan, bus.label, Buffer.from(bus.transport.data.subarray(0, n)));
    } finally {
      await bus.transport.close();
    }
  }
  if (o.json) {
    process.stdout.write(JSON.stringify(res) + '\n');
    return;
  }
  res.values.forEach((v, i) => process.stdout.write(`${table}[${spec.address + i * plan.width}] = ${typeof v === 'string' ? JSON.stringify(v) : String(v)}\n`));
  if (res.raw) process.stdout.write(`raw: ${res.raw.map((r) => '0x' + r.toString(16).padStart(4, '0')).join(' ')} (${spec.type}, ${res.order})\n`);
}

function parseUnits(spec: string): number[] {
  const out = new Set<number>();
  for (const part of spec.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw usage(`--units: expected e.g. 1-247 or 1,2,10-20, got "${spec}"`);
    const a = int(m[1], '--units', 0, 255);
    const b = m[2] ? int(m[2], '--units', 0, 255) : a;
    if (b < a) throw usage(`--units: range ${part} runs backwards`);
    for (let u = a; u <= b; u++) out.add(u);
  }
  return [...out];
}

interface ScanOpts extends BusOpts, TargetOptions {
  units: string;
  table: string;
  address: string;
  direct?: boolean;
}

async function scanCmd(o: ScanOpts): Promise<void> {
  const units = parseUnits(o.units);
  const table = oneOf(o.table, '--table', TABLES) as Table;
  const address = int(o.address, '--address', 0, 65535);
  const target = busTarget(o);
  const progress = (unit: number, found: number) => {
    if (!o.json && process.stderr.isTTY) process.stderr.write(`\rscanning unit ${unit} (${found} found)   `);
  };
  let res: ScanResult;
  const routed = await throughDaemon(o, target.label, 'modbus.scan', { ...busParams(target), units, table, address, timeoutMs: target.timeoutMs }, {
    onEvent: (e) => progress((e as { unit: number }).unit, (e as { found: number }).found),
  });
  if (routed) {
    res = routed.result as ScanResult;
    if (!o.json && process.stderr.isTTY) process.stderr.write('\n');
  } else {
    const bus = await openBus(target);
    const found: ScanResult['found'] = [];
    try {
      for (const unit of units) {
        try {
          await bus.transport.read(unit, READ_FC[table], address, 1, bus.timeoutMs);
          found.push({ unit, answer: 'data' });
        } catch (e) {
          const err = e as ModbusRequestError;
          if (err.kind === 'disconnected') throw new CliError(`${bus.label}: connection lost during the scan`);
          const answer = probeAnswer(err);
          if (answer) found.push({ unit, answer });
        }
        progress(unit, found.length);
      }
    } finally {
      await bus.transport.close();
      if (!o.json && process.stderr.isTTY) process.stderr.write('\n');
    }
    res = { bus: bus.label, probe: { table, address }, scanned: units.length, found };
  }
  if (o.json) process.stdout.write(JSON.stringify(res) + '\n');
  else {
    for (const f of res.found) process.stdout.write(`unit ${f.unit}: answers (${f.answer})\n`);
    process.stdout.write(`${res.found.length} of ${res.scanned} unit ids answered on ${res.bus}\n`);
  }
  if (res.found.length === 0) process.exitCode = 1;
}

function planCmd(o: { config: string; json?: boolean }): void {
  let config;
  try {
    ({ config } = loadConfigFile(o.config));
  } catch (e) {
    if (!(e instanceof ConfigInvalidError)) throw e;
    throw new CliError(e.errors.map((err) => formatError(err, e.file)).join('\n'));
  }
  const sources = (config.sources as { driver: string }[]).filter((s) => s.driver === 'modbus-rtu' || s.driver === 'modbus-tcp') as ModbusConfig[];
  const report = sources.map((s) => {
    const p = planSource(s);
    return {
      id: s.id,
      driver: s.driver,
      bus: s.driver === 'modbus-rtu' ? s.port : `${s.host}:${s.port}`,
      maxGap: s.maxGap,
      points: s.points.length,
      requestsAllDue: p.all.length,
      requests: p.all.map((r) => ({ unitId: r.unitId, table: r.table, fc: r.fc, address: r.address, quantity: r.quantity, points: r.members.map((m) => m.point.name) })),
      cycles: p.cycles,
      requestsPerSecond: Number(p.requestsPerSecond.toFixed(3)),
      text: p.all.map((r) => `${describeRequest(r)}: ${r.members.map((m) => m.point.name).join(', ')}`),
    };
  });
  // Sources naming one port or host:port share one bus: its load is the sum of theirs.
  const buses = new Map<string, { bus: string; sources: string[]; requestsPerSecond: number }>();
  for (const r of report) {
    const b = buses.get(r.bus) ?? { bus: r.bus, sources: [], requestsPerSecond: 0 };
    b.sources.push(r.id);
    b.requestsPerSecond = Number((b.requestsPerSecond + r.requestsPerSecond).toFixed(3));
    buses.set(r.bus, b);
  }
  if (o.json) {
    process.stdout.write(JSON.stringify({ file: o.config, sources: report.map(({ text, ...r }) => (void text, r)), buses: [...buses.values()] }) + '\n');
    return;
  }
  if (report.length === 0) process.stdout.write(`${o.config}: no modbus-rtu or modbus-tcp source\n`);
  for (const r of report) {
    process.stdout.write(`${r.id} (${r.driver} ${r.bus}, ${r.points} point${r.points === 1 ? '' : 's'}, maxGap ${r.maxGap}): ${r.requestsAllDue} request${r.requestsAllDue === 1 ? '' : 's'} when every point is due\n`);
    for (const t of r.text) process.stdout.write(`  ${t}\n`);
    if (r.cycles.length > 1) {
      for (const c of r.cycles) process.stdout.write(`  cycles with ${c.intervals.map((i) => `${i}ms`).join(' + ')} due: ${c.requests} request${c.requests === 1 ? '' : 's'}\n`);
    }
    process.stdout.write(`  ${r.requestsPerSecond} requests/s on average\n`);
  }
  for (const b of buses.values()) {
    if (b.sources.length > 1) process.stdout.write(`bus ${b.bus} (shared by ${b.sources.join(', ')}): ${b.requestsPerSecond} requests/s on average\n`);
  }
}

export function register(program: Command): void {
  const modbus = program.command('modbus').description('Modbus RTU/TCP diagnostics: one-off reads, unit-id scans, request plans');
  busOptions(modbus.command('read'))
    .description('read registers or bits once and decode them')
    .option('--unit <id>', 'unit id (slave address)', '1')
    .option('--table <t>', `one of ${TABLES.join(', ')}`, 'holding')
    .requiredOption('--address <n>', 'first address (0-based, as on the wire)')
    .option('--count <n>', 'number of values (type string: its length in registers)', '1')
    .option('--type <t>', `one of ${DATA_TYPES.join(', ')} (default: uint16; bool for coil/discrete)`)
    .option('--byte-order <o>', 'big or little: byte order within a register', 'big')
    .option('--word-order <o>', 'big or little: register order of 32/64-bit values (little = low word first)', 'big')
    .option('--order <ABCD>', 'shorthand for both orders: ABCD, CDAB, BADC or DCBA')
    .addHelpText('after', `
Examples:
  edge-agent modbus read --port /dev/serial/by-id/usb-FTDI-if00 --baud 19200 --unit 3 --address 100 --type float32 --order CDAB
  edge-agent modbus read --host 192.168.1.50 --table input --address 0 --count 10 --json
${VIA_DAEMON}
Through the daemon, the bus settings (baud, timeout, retries) are those of its sources.
Exit: 0 read ok, 1 no answer / Modbus exception / cannot open, 2 usage error.`)
    .action(readCmd);
  busOptions(modbus.command('scan'))
    .description('find which unit ids answer on a bus (a Modbus exception counts as an answer)')
    .option('--units <list>', 'unit ids to try, e.g. 1-247 or 1,2,10-20', '1-247')
    .option('--table <t>', 'table of the probe read', 'holding')
    .option('--address <n>', 'address of the probe read', '0')
    .addHelpText('after', `
The timeout defaults to 1s per unit; --timeout 200ms makes a full scan of 247 ids take under a minute.
${VIA_DAEMON}
Through the daemon each probe waits its turn between polls (the daemon's baud applies; --timeout too).
Exit: 0 at least one unit answered, 1 none answered or the bus cannot be opened, 2 usage error.`)
    .action(scanCmd);
  registerModbusWrite(modbus);
  modbus.command('plan')
    .description('print the read requests each Modbus source makes per poll cycle')
    .requiredOption('-c, --config <file>', 'config file')
    .option('--json', 'machine-readable output')
    .action(planCmd);
}
