import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { SerialPort } from 'serialport';
import { loadSerialPort } from '../../serialport-loader.js';

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

/** `serial list`. */
export function registerList(serial: Command): void {
  serial
    .command('list')
    .description('list serial ports (USB adapters with vendor/product ids)')
    .option('--json', 'machine-readable output')
    .action(list);
}
