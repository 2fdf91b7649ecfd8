import type { Command } from 'commander';
import type { CliTools } from '../../tooling.js';
import { planSource } from '../cycles.js';
import { describeRequest } from '../planner.js';
import type { ModbusConfig } from '../config.js';

function planCmd(tools: CliTools, o: { config: string; json?: boolean }): void {
  const sources = tools.loadSources(o.config).filter((s) => s.driver === 'modbus-rtu' || s.driver === 'modbus-tcp') as unknown as ModbusConfig[];
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
    process.stdout.write(`${r.id} (${r.driver} ${r.bus}, ${r.points} point${r.points === 1 ? "" : "s"}, maxGap ${r.maxGap}): ${r.requestsAllDue} request${r.requestsAllDue === 1 ? '' : 's'} when every point is due\n`);
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

/** `modbus plan`: the requests each source makes per cycle (offline, from the config file). */
export function registerPlan(modbus: Command, tools: CliTools): void {
  modbus.command('plan')
    .description('print the read requests each Modbus source makes per poll cycle')
    .requiredOption('-c, --config <file>', 'config file')
    .option('--json', 'machine-readable output')
    .action((o: { config: string; json?: boolean }) => planCmd(tools, o));
}
