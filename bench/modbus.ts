/**
 * bench/modbus: polls/s of the modbus-tcp driver against the pymodbus slave versus a raw
 * modbus-serial read loop on the same slave in the same run, plus the planner's figures.
 * Last stdout line: one JSON object {"name":"modbus","figures":{...},"baseline":{...},"ratio":...}.
 *
 *   node --import tsx bench/modbus.ts [--seconds 4]
 *
 * Both sides make the same requests (20 units x 2 tables x 8 separate 10-register blocks, round
 * robin, one in flight)
 * so the ratio shows what the driver's queue, scheduler, breaker and decoding cost on top of
 * the wire. The driver is kept saturated: 20 sources share the bus, each polling 16 requests every 10 ms.
 */
import { createRequire } from 'node:module';
import { modbusTcpSchema } from '../drivers/modbus/config.js';
import { ModbusSource } from '../drivers/modbus/source.js';
import { plan, type PlanPoint } from '../drivers/modbus/planner.js';
import { captureContext } from '../test/helpers/source-context.js';
import { SharedHost } from '../drivers/host.js';
import { freePort } from '../test/helpers/system.js';
import { havePymodbus, startSlave } from '../test/drivers/modbus/slave.js';

// modbus-serial is CommonJS; its typings describe an ES default export, so load it plainly.
interface RawClient {
  connectTCP(ip: string, opts: { port: number }): Promise<void>;
  setID(id: number): void;
  setTimeout(ms: number): void;
  readHoldingRegisters(addr: number, len: number): Promise<{ data: number[] }>;
  readInputRegisters(addr: number, len: number): Promise<{ data: number[] }>;
  close(cb: () => void): void;
}
interface RawServer { on(ev: string, cb: () => void): void; close(cb: () => void): void }
const ModbusRTU = createRequire(import.meta.url)('modbus-serial') as {
  new (): RawClient;
  ServerTCP: new (vector: Record<string, unknown>, opts: Record<string, unknown>) => RawServer;
};

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const SECONDS = arg('seconds', 4);
const ROUNDS = 3;
const UNITS = 20; // unit ids on the slave, one source each, all sharing one host:port bus
const BLOCKS = 8; // 10-register blocks per table
const TABLES = ['holding', 'input'] as const;
const K = BLOCKS * TABLES.length; // requests per cycle per source
const BLOCK = 10; // registers per request
const addrOf = (k: number) => k * 12; // 2-register gaps between blocks: never merged with maxGap 1 (slave map: 100 registers)

const log = (s: string) => process.stderr.write(s + '\n');

async function rawLoop(port: number, ms: number): Promise<number> {
  const client = new ModbusRTU();
  await client.connectTCP('127.0.0.1', { port });
  client.setID(1);
  client.setTimeout(1000);
  let n = 0;
  const end = performance.now() + ms;
  const t0 = performance.now();
  // the same requests the driver makes, round robin over units, tables and blocks
  while (performance.now() < end) {
    const unit = 1 + (Math.floor(n / K) % UNITS);
    const k = n % K;
    client.setID(unit);
    const addr = addrOf(k % BLOCKS);
    const r = k < BLOCKS ? await client.readHoldingRegisters(addr, BLOCK) : await client.readInputRegisters(addr, BLOCK);
    if (r.data.length !== BLOCK) throw new Error(`raw read returned ${r.data.length} registers`);
    n++;
  }
  const elapsed = performance.now() - t0;
  await new Promise<void>((r) => client.close(() => r()));
  return (n * 1000) / elapsed;
}

async function driverRun(port: number, ms: number): Promise<{ polls: number; readings: number; errors: number }> {
  let readings = 0;
  let errors = 0;
  const sources: ModbusSource[] = [];
  const host = new SharedHost(); // the sources of one agent: they share the host:port bus
  for (let u = 1; u <= UNITS; u++) {
    const points = [];
    for (const table of TABLES) {
      for (let k = 0; k < BLOCKS; k++) {
        for (let i = 0; i < BLOCK; i += 2) points.push({ name: `${table}${k}_${i}`, table, address: addrOf(k) + i, type: i === 0 ? 'uint32' : 'int16' });
        // last register of the block so each request spans exactly BLOCK registers
        points.push({ name: `${table}${k}_end`, table, address: addrOf(k) + BLOCK - 1, type: 'uint16' });
      }
    }
    // 10 ms polls for 20 sources x 16 requests (32,000 requests/s asked): more than the slave
    // can serve, so the shared bus queue never runs dry and the figure is the throughput.
    const cfg = modbusTcpSchema.parse({ id: `u${u}`, driver: 'modbus-tcp', host: '127.0.0.1', port, unitId: u, pollInterval: '10ms', timeout: '1s', maxGap: 1, points });
    const { ctx } = captureContext({ host });
    ctx.emit = () => { readings++; };
    ctx.error = () => { errors++; };
    const src = new ModbusSource(cfg, ctx);
    if (src.fullPlan().length !== K) throw new Error(`expected ${K} requests per cycle, planned ${src.fullPlan().length}`);
    sources.push(src);
  }
  for (const s of sources) await s.open();
  const answers = () => (sources[0].diagnostics() as { answers: number }).answers; // bus-wide counter
  const d0 = Date.now();
  while (!(sources[0].diagnostics() as { connected: boolean }).connected) {
    if (Date.now() - d0 > 5000) throw new Error('driver did not connect');
    await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, 200));
  const a0 = answers();
  const r0 = readings;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const elapsed = performance.now() - t0;
  const a1 = answers();
  const r1 = readings;
  for (const s of sources) await s.close();
  return { polls: ((a1 - a0) * 1000) / elapsed, readings: ((r1 - r0) * 1000) / elapsed, errors };
}

function plannerFigures() {
  // requests per cycle for a meter-like map, and the time to plan 10,000 points
  const P = (address: number, width: number, table: PlanPoint['table'] = 'holding', unitId = 1): PlanPoint => ({ unitId, table, address, width });
  const example = [P(0, 2), P(2, 2), P(4, 2), P(6, 2), P(12, 2), P(14, 2), P(16, 2), P(40, 2), P(42, 2), P(100, 4), P(104, 4), P(200, 1), P(201, 1), P(300, 10),
    P(0, 1, 'input'), P(1, 2, 'input'), P(60, 1, 'input'), P(0, 1, 'coil'), P(1, 1, 'coil'), P(7, 1, 'coil'), P(500, 1, 'coil')];
  const perCycle = Object.fromEntries([0, 10, 30].map((g) => [`maxGap${g}`, plan(example, { maxGap: g }).length]));
  const big: PlanPoint[] = [];
  for (let i = 0; i < 10_000; i++) big.push(P((i * 7919) % 60_000, [1, 2, 4][i % 3], (['holding', 'input', 'coil'] as const)[i % 3], 1 + (i % 4)));
  for (let i = 0; i < 3; i++) plan(big, { maxGap: 10 });
  const runs: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    plan(big, { maxGap: 10 });
    runs.push(performance.now() - t0);
  }
  runs.sort((a, b) => a - b);
  return { examplePoints: example.length, requestsPerCycle: perCycle, plan10kPointsMs: Number(runs[Math.floor(runs.length / 2)].toFixed(2)) };
}

async function main() {
  let slaveStop: () => Promise<void>;
  let slaveName: string;
  const port = await freePort();
  if (havePymodbus()) {
    const s = await startSlave({ tcp: port, units: Array.from({ length: UNITS }, (_, i) => i + 1) });
    slaveStop = s.stop;
    slaveName = 'pymodbus 3.0 (TCP, loopback)';
  } else {
    // Fallback so the bench still runs: modbus-serial's own server (figures not comparable).
    const server = new ModbusRTU.ServerTCP({ getHoldingRegister: (addr: number) => addr, getInputRegister: (addr: number) => addr }, { host: '127.0.0.1', port, unitID: 255 });
    await new Promise<void>((r) => server.on('initialized', () => r()));
    slaveStop = () => new Promise<void>((r) => server.close(() => r()));
    slaveName = 'modbus-serial ServerTCP (fallback: pymodbus missing)';
  }
  const raw: number[] = [];
  const drv: { polls: number; readings: number; errors: number }[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      raw.push(await rawLoop(port, SECONDS * 1000));
      log(`round ${round + 1}: raw modbus-serial loop ${raw.at(-1)!.toFixed(0)} polls/s`);
      drv.push(await driverRun(port, SECONDS * 1000));
      log(`round ${round + 1}: driver ${drv.at(-1)!.polls.toFixed(0)} polls/s, ${drv.at(-1)!.readings.toFixed(0)} readings/s, ${drv.at(-1)!.errors} errors`);
    }
  } finally {
    await slaveStop();
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rawPolls = mean(raw);
  const drvPolls = mean(drv.map((d) => d.polls));
  const pf = plannerFigures();
  const result = {
    name: 'modbus',
    figures: {
      slave: slaveName,
      pollsPerSecond: Number(drvPolls.toFixed(1)),
      readingsPerSecond: Number(mean(drv.map((d) => d.readings)).toFixed(1)),
      registersPerRequest: BLOCK,
      requestsPerCycle: K,
      units: UNITS,
      errors: drv.reduce((s, d) => s + d.errors, 0),
      planner: pf,
      seconds: SECONDS * ROUNDS,
    },
    baseline: { name: 'modbus-serial readHoldingRegisters loop', pollsPerSecond: Number(rawPolls.toFixed(1)) },
    ratio: Number((drvPolls / rawPolls).toFixed(3)),
  };
  console.log(JSON.stringify(result));
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
