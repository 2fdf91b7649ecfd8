import type { Command } from 'commander';
import { CliError } from '../../../core/tool-errors.js';
import type { CliTools } from '../../tooling.js';
import type { ModbusRequestError } from '../errors.js';
import { decodeRead, planRead, type ReadResult, type ReadSpec } from '../oneshot.js';
import { DATA_TYPES, MAX_BITS, TABLES, isBitTable, parseOrderLabel, type DataType, type Order, type Table } from '../types.js';
import { VIA_DAEMON, busOptions, busParams, busTarget, int, oneOf, openBus, usage, type BusOpts } from './bus-options.js';

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

async function readCmd(tools: CliTools, o: ReadOpts, cmd: Command): Promise<void> {
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
  const routed = await tools.throughDaemon(o, target.label, 'modbus.read', { ...busParams(target), ...spec }, { timeoutMs: 120_000 });
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

/** `modbus read`: one read, decoded. */
export function registerRead(modbus: Command, tools: CliTools): void {
  busOptions(modbus.command('read'), tools)
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
    .action((o: ReadOpts, cmd: Command) => readCmd(tools, o, cmd));
}
