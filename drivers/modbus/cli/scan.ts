import type { Command } from 'commander';
import { CliError } from '../../../core/tool-errors.js';
import type { CliTools } from '../../tooling.js';
import { ModbusRequestError } from '../errors.js';
import { scanUnits, type ScanResult } from '../oneshot.js';
import { READ_FC, TABLES, type Table } from '../types.js';
import { VIA_DAEMON, busOptions, busParams, busTarget, int, oneOf, openBus, usage, type BusOpts } from './bus-options.js';

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

async function scanCmd(tools: CliTools, o: ScanOpts): Promise<void> {
  const units = parseUnits(o.units);
  const table = oneOf(o.table, '--table', TABLES) as Table;
  const address = int(o.address, '--address', 0, 65535);
  const target = busTarget(o);
  const progress = (unit: number, found: number) => {
    if (!o.json && process.stderr.isTTY) process.stderr.write(`\rscanning unit ${unit} (${found} found)   `);
  };
  let res: ScanResult;
  const routed = await tools.throughDaemon(o, target.label, 'modbus.scan', { ...busParams(target), units, table, address, timeoutMs: target.timeoutMs }, {
    onEvent: (e) => progress((e as { unit: number }).unit, (e as { found: number }).found),
  });
  if (routed) {
    res = routed.result as ScanResult;
    if (!o.json && process.stderr.isTTY) process.stderr.write('\n');
  } else {
    const bus = await openBus(target);
    try {
      res = await scanUnits(bus.label, units, { table, address }, (unit) => bus.transport.read(unit, READ_FC[table], address, 1, bus.timeoutMs), progress);
    } catch (e) {
      if (e instanceof ModbusRequestError) throw new CliError(e.message);
      throw e;
    } finally {
      await bus.transport.close();
      if (!o.json && process.stderr.isTTY) process.stderr.write('\n');
    }
  }
  if (o.json) process.stdout.write(JSON.stringify(res) + '\n');
  else {
    for (const f of res.found) process.stdout.write(`unit ${f.unit}: answers (${f.answer})\n`);
    process.stdout.write(`${res.found.length} of ${res.scanned} unit ids answered on ${res.bus}\n`);
  }
  if (res.found.length === 0) process.exitCode = 1;
}

/** `modbus scan`: which unit ids answer. */
export function registerScan(modbus: Command, tools: CliTools): void {
  busOptions(modbus.command('scan'), tools)
    .description('find which unit ids answer on a bus (a Modbus exception counts as an answer)')
    .option('--units <list>', 'unit ids to try, e.g. 1-247 or 1,2,10-20', '1-247')
    .option('--table <t>', 'table of the probe read', 'holding')
    .option('--address <n>', 'address of the probe read', '0')
    .addHelpText('after', `
The timeout defaults to 1s per unit; --timeout 200ms makes a full scan of 247 ids take under a minute.
${VIA_DAEMON}
Through the daemon each probe waits its turn between polls (the daemon's baud applies; --timeout too).
Exit: 0 at least one unit answered, 1 none answered or the bus cannot be opened, 2 usage error.`)
    .action((o: ScanOpts) => scanCmd(tools, o));
}
