import type { Command } from 'commander';
import { CliError } from './common.js';
import { loadConfigFile, ConfigInvalidError } from '../config/load.js';
import { formatError } from '../config/errors.js';
import { parseDuration } from '../config/units.js';
import { compileDecoder } from '../../drivers/modbus/decode.js';
import { ModbusRequestError } from '../../drivers/modbus/errors.js';
import { RtuTransport } from '../../drivers/modbus/rtu-transport.js';
import { TcpTransport } from '../../drivers/modbus/tcp-transport.js';
import { planSource } from '../../drivers/modbus/cycles.js';
import { describeRequest } from '../../drivers/modbus/planner.js';
import type { ModbusConfig } from '../../drivers/modbus/config.js';
import {
  DATA_TYPES, MAX_BITS, MAX_REGISTERS, READ_FC, TABLES, isBitTable, orderLabel, parseOrderLabel, registerWidth,
  type DataType, type Order, type Table,
} from '../../drivers/modbus/types.js';

/** Bus options shared by `modbus read` and `modbus scan`. */
interface BusOpts {
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

const usage = (msg: string) => new CliError(msg, 2);

function int(v: string, what: string, min: number, max: number): number {
  if (!/^\d+$/.test(v)) throw usage(`${what}: expected an integer, got "${v}"`);
  const n = Number(v);
  if (n < min || n > max) throw usage(`${what}: ${n} is outside ${min}..${max}`);
  return n;
}

function oneOf<T extends string>(v: string, what: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v)) throw usage(`${what}: expected one of ${allowed.join(', ')}, got "${v}"`);
  return v as T;
}

function busOptions(cmd: Command): Command {
  return cmd
    .option('--port <path>', 'RTU: serial port (prefer /dev/serial/by-id/...)')
    .option('--baud <n>', 'RTU: baud rate', '9600')
    .option('--parity <p>', 'RTU: none, even or odd', 'none')
    .option('--data-bits <n>', 'RTU: 7 or 8', '8')
    .option('--stop-bits <n>', 'RTU: 1 or 2', '1')
    .option('--host <host[:port]>', 'TCP: device or gateway address')
    .option('--tcp-port <n>', 'TCP: port (when not given in --host)', '502')
    .option('--timeout <duration>', 'answer timeout per request', '1s')
    .option('--json', 'machine-readable output');
}

interface OpenBus {
  label: string;
  transport: RtuTransport | TcpTransport;
  timeoutMs: number;
}

async function openBus(o: BusOpts): Promise<OpenBus> {
  const timeoutMs = parseDuration(o.timeout);
  if (timeoutMs === undefined || timeoutMs < 1) throw usage(`--timeout: invalid duration "${o.timeout}"`);
  if (!!o.port === !!o.host) throw usage('give exactly one of --port (Modbus RTU) or --host (Modbus TCP)');
  let transport: RtuTransport | TcpTransport;
  if (o.port) {
    transport = new RtuTransport({
      path: o.port,
      baudRate: int(o.baud, '--baud', 50, 4_000_000),
      parity: oneOf(o.parity, '--parity', ['none', 'even', 'odd'] as const),
      dataBits: int(o.dataBits, '--data-bits', 7, 8) as 7 | 8,
      stopBits: int(o.stopBits, '--stop-bits', 1, 2) as 1 | 2,
    }, { reconnect: false });
  } else {
    const m = /^(.*?)(?::(\d+))?$/.exec(o.host!)!;
    const port = m[2] ? int(m[2], '--host port', 1, 65535) : int(o.tcpPort, '--tcp-port', 1, 65535);
    transport = new TcpTransport(m[1], port, { reconnect: false, connectTimeoutMs: Math.max(timeoutMs, 3000) });
  }
  try {
    await transport.connectOnce();
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  return { label: transport.label, transport, timeoutMs };
}

interface ReadOpts extends BusOpts {
  unit: string;
  table: string;
  address: string;
  count: string;
  type?: string;
  byteOrder: string;
  wordOrder: string;
  order?: string;
}

async function readCmd(o: ReadOpts): Promise<void> {
  const unit = int(o.unit, '--unit', 0, 255);
  const table = oneOf(o.table, '--table', TABLES) as Table;
  const address = int(o.address, '--address', 0, 65535);
  const count = int(o.count, '--count', 1, MAX_BITS);
  const bits = isBitTable(table);
  const type = (o.type ? oneOf(o.type, '--type', DATA_TYPES) : bits ? 'bool' : 'uint16') as DataType;
  if (bits && type !== 'bool') throw usage(`--type: ${table} holds single bits, only bool applies`);
  let byteOrder = oneOf(o.byteOrder, '--byte-order', ['big', 'little'] as const) as Order;
  let wordOrder = oneOf(o.wordOrder, '--word-order', ['big', 'little'] as const) as Order;
  if (o.order) {
    const ord = parseOrderLabel(o.order);
    if (!ord) throw usage(`--order: expected ABCD, CDAB, BADC or DCBA, got "${o.order}"`);
    ({ byteOrder, wordOrder } = ord);
  }
  // --count is the number of values; for strings it is the string's length in registers.
  const width = bits ? 1 : registerWidth(type, type === 'string' ? count : undefined);
  const values = type === 'string' ? 1 : count;
  const quantity = width * values;
  if (quantity > (bits ? MAX_BITS : MAX_REGISTERS)) throw usage(`--count: ${quantity} ${bits ? 'bits' : 'registers'} exceed one request (max ${bits ? MAX_BITS : MAX_REGISTERS})`);

  const bus = await openBus(o);
  try {
    const fc = READ_FC[table];
    let n: number;
    try {
      n = await bus.transport.read(unit, fc, address, quantity, bus.timeoutMs);
    } catch (e) {
      const err = e as ModbusRequestError;
      throw new CliError(`unit ${unit} ${table} ${address}..${address + quantity - 1} on ${bus.label}: ${err.message}`);
    }
    const data = Buffer.from(bus.transport.data.subarray(0, n));
    const decode = compileDecoder({ table, type, count: type === 'string' ? count : undefined, byteOrder, wordOrder, scale: 1, offset: 0 });
    const out: { address: number; value: unknown }[] = [];
    for (let i = 0; i < values; i++) out.push({ address: address + i * width, value: decode(data, bits ? i : i * width * 2) });
    const raw = bits ? out.map((v) => v.value) : Array.from({ length: n / 2 }, (_, i) => data.readUInt16BE(i * 2));
    if (o.json) {
      process.stdout.write(JSON.stringify({ bus: bus.label, unit, table, address, type, byteOrder, wordOrder, order: orderLabel(byteOrder, wordOrder), values: out.map((v) => v.value), ...(bits ? {} : { raw }) }) + '\n');
    } else {
      for (const v of out) process.stdout.write(`${table}[${v.address}] = ${typeof v.value === 'string' ? JSON.stringify(v.value) : String(v.value)}\n`);
      if (!bits) process.stdout.write(`raw: ${raw.map((r) => '0x' + (r as number).toString(16).padStart(4, '0')).join(' ')} (${type}, ${orderLabel(byteOrder, wordOrder)})\n`);
    }
  } finally {
    await bus.transport.close();
  }
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

interface ScanOpts extends BusOpts {
  units: string;
  table: string;
  address: string;
}

async function scanCmd(o: ScanOpts): Promise<void> {
  const units = parseUnits(o.units);
  const table = oneOf(o.table, '--table', TABLES) as Table;
  const address = int(o.address, '--address', 0, 65535);
  const bus = await openBus(o);
  const found: { unit: number; answer: string }[] = [];
  try {
    for (const unit of units) {
      try {
        await bus.transport.read(unit, READ_FC[table], address, 1, bus.timeoutMs);
        found.push({ unit, answer: 'data' });
      } catch (e) {
        const err = e as ModbusRequestError;
        // An exception is an answer: the device is there, it just refuses this register.
        if (err.kind === 'exception') found.push({ unit, answer: `exception: ${err.message}` });
        else if (err.kind === 'disconnected') throw new CliError(`${bus.label}: connection lost during the scan`);
      }
      if (!o.json && process.stderr.isTTY) process.stderr.write(`\rscanning unit ${unit} (${found.length} found)   `);
    }
  } finally {
    await bus.transport.close();
    if (!o.json && process.stderr.isTTY) process.stderr.write('\n');
  }
  if (o.json) process.stdout.write(JSON.stringify({ bus: bus.label, probe: { table, address }, scanned: units.length, found }) + '\n');
  else {
    for (const f of found) process.stdout.write(`unit ${f.unit}: answers (${f.answer})\n`);
    process.stdout.write(`${found.length} of ${units.length} unit ids answered on ${bus.label}\n`);
  }
  if (found.length === 0) process.exitCode = 1;
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
    process.stdout.write(`${r.id} (${r.driver} ${r.bus}, ${r.points} points, maxGap ${r.maxGap}): ${r.requestsAllDue} request${r.requestsAllDue === 1 ? '' : 's'} when every point is due\n`);
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
    .option('--type <t>', `one of ${DATA_TYPES.join(', ')} (default uint16, bool for coil/discrete)`)
    .option('--byte-order <o>', 'big or little: byte order within a register', 'big')
    .option('--word-order <o>', 'big or little: register order of 32/64-bit values (little = low word first)', 'big')
    .option('--order <ABCD>', 'shorthand for both orders: ABCD, CDAB, BADC or DCBA')
    .addHelpText('after', `
Examples:
  edge-agent modbus read --port /dev/serial/by-id/usb-FTDI-if00 --baud 19200 --unit 3 --address 100 --type float32 --order CDAB
  edge-agent modbus read --host 192.168.1.50 --table input --address 0 --count 10 --json
Exit: 0 read ok, 1 no answer / Modbus exception / cannot open, 2 usage error.`)
    .action(readCmd);
  busOptions(modbus.command('scan'))
    .description('find which unit ids answer on a bus (a Modbus exception counts as an answer)')
    .option('--units <list>', 'unit ids to try, e.g. 1-247 or 1,2,10-20', '1-247')
    .option('--table <t>', 'table of the probe read', 'holding')
    .option('--address <n>', 'address of the probe read', '0')
    .addHelpText('after', `
The timeout defaults to 1s per unit; --timeout 200ms makes a full scan of 247 ids take under a minute.
Exit: 0 at least one unit answered, 1 none answered or the bus cannot be opened, 2 usage error.`)
    .action(scanCmd);
  modbus.command('plan')
    .description('print the read requests each Modbus source makes per poll cycle')
    .requiredOption('-c, --config <file>', 'config file')
    .option('--json', 'machine-readable output')
    .action(planCmd);
}
