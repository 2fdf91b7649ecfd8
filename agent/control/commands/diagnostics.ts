import type { Logger } from '../../../core/log.js';
import { ControlError, type ControlServer } from '../server.js';
import { heldBus } from '../../../drivers/modbus/control.js';
import type { DriverHost } from '../../../drivers/types.js';
import { ModbusRequestError } from '../../../drivers/modbus/errors.js';
import { decodeRead, planRead, type ReadSpec } from '../../../drivers/modbus/oneshot.js';
import { planWrite, type WriteSpec } from '../../../drivers/modbus/oneshot-write.js';
import type { GpioConfig } from '../../../drivers/gpio/config.js';
import type { SourceRunner } from '../../runtime/source-runner.js';
import type { CommandExecutor } from './executor.js';

/**
 * The CLI's writes through the daemon (`modbus write`, `gpio write`), for devices it holds: the
 * write waits its turn on the bus queue (Modbus) or goes through the configured output pin, so the
 * CLI never fights the daemon for the line. A GPIO write is a command like any other (origin
 * `cli`: writable pins only, counted, logged). A Modbus write is a raw diagnostic write (any
 * holding register or coil, as mbpoll would do): it is logged as a warning with what it wrote.
 */
export function registerWriteDiagnostics(s: ControlServer, executor: CommandExecutor, sources: () => readonly SourceRunner[], host: DriverHost, log: Logger): void {
  s.register('modbus.write', 'write {values} at {unit, table, address, type, byteOrder, wordOrder} on the bus of {port} or {host, tcpPort}, then read back', (p) => modbusWrite(host, p, log));
  s.register('gpio.write', 'drive the output pin on BCM {line} to {value} 0|1 (a command of origin cli), read back', (p) => gpioWrite(p, executor, sources));
}

const bad = (msg: string) => new ControlError(msg, 'bad-params');

async function modbusWrite(host: DriverHost, p: Record<string, unknown>, log: Logger) {
  const { bus, owner, settings } = heldBus(host, p);
  const spec = {
    unit: p.unit, table: p.table, address: p.address, type: p.type, values: p.values,
    byteOrder: p.byteOrder ?? 'big', wordOrder: p.wordOrder ?? 'big', multiple: p.multiple === true,
  } as WriteSpec;
  let plan;
  let rp;
  try {
    plan = planWrite(spec);
    rp = planRead(plan.readBack);
  } catch (e) {
    throw bad((e as Error).message);
  }
  const s = bus.settings();
  const where = `unit ${spec.unit} ${spec.table} ${spec.address} on ${bus.transport.label}`;
  let data: Buffer;
  try {
    data = await bus.exclusive(async (t) => {
      if (!t.write) throw new ModbusRequestError('frame', 'transport cannot write');
      await t.write(spec.unit, plan.fc, plan.body, s.timeout);
      const n = await t.read(spec.unit, rp.fc, spec.address, rp.quantity, s.timeout);
      return Buffer.from(t.data.subarray(0, n));
    });
  } catch (e) {
    const kind = e instanceof ModbusRequestError ? e.kind : 'closed';
    log.warn({ ...spec, fc: plan.fc, err: (e as Error).message }, `modbus write from the control socket failed: ${where}`);
    throw new ControlError(`${where} (FC ${plan.fc}): ${(e as Error).message}`, `modbus-${kind}`);
  }
  const readBack = decodeRead(plan.readBack as ReadSpec, rp, bus.transport.label, data);
  log.warn({ ...spec, fc: plan.fc, readBack: readBack.values }, `modbus write from the control socket: ${where}`);
  return { fc: plan.fc, written: spec.values, readBack, via: { source: owner, settings: JSON.parse(settings), timeout: s.timeout } };
}

async function gpioWrite(p: Record<string, unknown>, executor: CommandExecutor, sources: () => readonly SourceRunner[]) {
  const line = p.line;
  if (!Number.isInteger(line)) throw bad(`line: expected a BCM line number, got ${JSON.stringify(line)}`);
  if (p.value !== 0 && p.value !== 1) throw bad(`value: expected 0 or 1, got ${JSON.stringify(p.value)}`);
  for (const r of sources()) {
    if (r.config.driver !== 'gpio') continue;
    const pin = (r.config as unknown as GpioConfig).pins.find((x) => x.line === line);
    if (!pin) continue;
    if (pin.direction !== 'out') throw new ControlError(`line ${line} is input pin "${pin.name}" of source "${r.id}": not written (make it direction: out to write it)`, 'gpio-input');
    const res = await executor.execute({ id: `cli-${Date.now()}`, source: r.id, point: pin.name, value: p.value === 1 }, 'cli');
    if (res.status !== 'done') throw new ControlError(res.error ?? res.status, `command-${res.status}`);
    return { source: r.id, pin: pin.name, line, value: res.value === true ? 1 : 0 };
  }
  throw new ControlError(`no running gpio source drives line ${line}`, 'not-held');
}
