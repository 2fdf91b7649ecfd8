import type { Command } from 'commander';
import { CliError } from '../../../core/tool-errors.js';
import type { CliTools } from '../../tooling.js';
import { VIA_DAEMON, busOptions, busParams, busTarget, int, oneOf, openBus, usage, type BusOpts } from './bus-options.js';
import { ModbusRequestError } from '../errors.js';
import { decodeRead, planRead, type ReadResult } from '../oneshot.js';
import { planWrite, type WriteSpec } from '../oneshot-write.js';
import { DATA_TYPES, parseOrderLabel, type DataType, type Order } from '../types.js';

interface WriteOpts extends BusOpts {
  unit: string;
  table: string;
  address: string;
  type?: string;
  byteOrder: string;
  wordOrder: string;
  order?: string;
  fc16?: boolean;
  direct?: boolean;
}

function parseValue(v: string, coil: boolean, i: number): number | boolean {
  if (coil) {
    if (/^(1|on|true)$/i.test(v)) return true;
    if (/^(0|off|false)$/i.test(v)) return false;
    throw usage(`VALUES[${i}]: a coil takes 0/1, on/off or true/false, got "${v}"`);
  }
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw usage(`VALUES[${i}]: expected a number, got "${v}"`);
  return n;
}

/**
 * `edge-agent modbus write`: values encoded as a point of that type and order (the reverse of
 * `modbus read`), written with FC 5/6/15/16 and read back. Through the daemon when it holds the bus.
 */
async function writeCmd(tools: CliTools, values: string[], o: WriteOpts): Promise<void> {
  const table = oneOf(o.table, '--table', ['holding', 'coil'] as const);
  const coil = table === 'coil';
  const spec: WriteSpec = {
    unit: int(o.unit, '--unit', 0, 255),
    table,
    address: int(o.address, '--address', 0, 65535),
    type: (o.type ? oneOf(o.type, '--type', DATA_TYPES.filter((t) => t !== 'string')) : coil ? 'bool' : 'uint16') as DataType,
    byteOrder: oneOf(o.byteOrder, '--byte-order', ['big', 'little'] as const) as Order,
    wordOrder: oneOf(o.wordOrder, '--word-order', ['big', 'little'] as const) as Order,
    values: values.map((v, i) => parseValue(v, coil, i)),
    multiple: !!o.fc16,
  };
  if (o.order) {
    const ord = parseOrderLabel(o.order);
    if (!ord) throw usage(`--order: expected ABCD, CDAB, BADC or DCBA, got "${o.order}"`);
    ({ byteOrder: spec.byteOrder, wordOrder: spec.wordOrder } = ord);
  }
  let plan;
  let rp;
  try {
    plan = planWrite(spec);
    rp = planRead(plan.readBack);
  } catch (e) {
    throw usage((e as Error).message);
  }
  const target = busTarget(o);
  let readBack: ReadResult;
  const routed = await tools.throughDaemon(o, target.label, 'modbus.write', { ...busParams(target), ...spec }, { timeoutMs: 120_000 });
  if (routed) readBack = (routed.result as { readBack: ReadResult }).readBack;
  else {
    const bus = await openBus(target);
    const what = `unit ${spec.unit} ${table} ${spec.address} on ${bus.label}`;
    try {
      try {
        await bus.transport.write(spec.unit, plan.fc, plan.body, bus.timeoutMs);
      } catch (e) {
        throw new CliError(`${what} (FC ${plan.fc}): ${(e as ModbusRequestError).message}`);
      }
      let n;
      try {
        n = await bus.transport.read(spec.unit, rp.fc, spec.address, rp.quantity, bus.timeoutMs);
      } catch (e) {
        throw new CliError(`${what}: written (FC ${plan.fc}), but the read-back failed: ${(e as ModbusRequestError).message}`);
      }
      readBack = decodeRead(plan.readBack, rp, bus.label, Buffer.from(bus.transport.data.subarray(0, n)));
    } finally {
      await bus.transport.close();
    }
  }
  if (o.json) {
    process.stdout.write(JSON.stringify({ fc: plan.fc, written: spec.values, readBack }) + '\n');
    return;
  }
  const width = coil ? 1 : plan.readBack.type === 'bool' ? 1 : rp.width;
  spec.values.forEach((v, i) => {
    const back = readBack.values[i];
    process.stdout.write(`${table}[${spec.address + i * width}] <- ${String(v)} (FC ${plan.fc}); read back ${String(back)}\n`);
  });
  if (readBack.raw) process.stdout.write(`raw: ${readBack.raw.map((r) => '0x' + r.toString(16).padStart(4, '0')).join(' ')} (${spec.type}, ${readBack.order})\n`);
}

/** Adds `write` to the `modbus` command group. */
export function registerWrite(modbus: Command, tools: CliTools): void {
  busOptions(modbus.command('write'), tools)
    .description('write holding registers or coils (FC 5/6/15/16), encoded like a point of --type and --order, then read back')
    .argument('<VALUES...>', 'values to write from --address on (coils: 0/1); negative numbers after --')
    .option('--unit <id>', 'unit id (slave address)', '1')
    .option('--table <t>', 'holding or coil', 'holding')
    .requiredOption('--address <n>', 'first address (0-based, as on the wire)')
    .option('--type <t>', 'int16, uint16, int32, uint32, int64, uint64, float32, float64, bool (default: uint16; coils bool)')
    .option('--byte-order <o>', 'big or little: byte order within a register', 'big')
    .option('--word-order <o>', 'big or little: register order of 32/64-bit values (little = low word first)', 'big')
    .option('--order <ABCD>', 'shorthand for both orders: ABCD, CDAB, BADC or DCBA')
    .option('--fc16', 'use FC 16 (FC 15 for coils) even for a single register (devices without FC 6)')
    .addHelpText('after', `
Examples:
  edge-agent modbus write --host 192.168.1.50 --address 200 --type float32 --order CDAB 21.5
  edge-agent modbus write --port /dev/ttyUSB0 --baud 19200 --unit 3 --table coil --address 0 1
  edge-agent modbus write --host 10.0.0.7 --address 10 --type int16 -- -40
This is a raw diagnostic write, like mbpoll's: no point rules apply (commands from MQTT only write
points the config makes writable, within their range). Through the daemon it is logged as a warning.
${VIA_DAEMON}
Exit: 0 written and read back, 1 no answer / Modbus exception / cannot open, 2 usage error.`)
    .action((values: string[], o: WriteOpts) => writeCmd(tools, values, o));
}
