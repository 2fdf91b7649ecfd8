import type { Command } from 'commander';
import { CliError } from '../../../core/tool-errors.js';
import { commonOptions, parseLine, resolveLine, where, type CommonOpts } from './common.js';

async function read(lineArg: string, o: CommonOpts): Promise<void> {
  const line = parseLine(lineArg);
  const { backend, r } = await resolveLine(line, o);
  let h;
  try {
    h = await backend.open(r, { pollIntervalMs: 10, readOnlyIfShared: true });
  } catch (e) {
    throw new CliError(`${where(r)}: ${(e as Error).message}`);
  }
  try {
    const value = h.read() ^ (o.activeLow ? 1 : 0);
    if (o.json) process.stdout.write(JSON.stringify({ line, gpio: r.number, chip: r.chipLabel, base: r.chipBase, value, activeLow: !!o.activeLow, shared: !h.exportedByUs, backend: backend.name }) + '\n');
    else process.stdout.write(`${where(r)}: ${value}${h.exportedByUs ? '' : ' (line already exported by another program; left as it was)'}\n`);
  } finally {
    h.close();
  }
}

/** `gpio read LINE`. */
export function registerRead(gpio: Command): void {
  commonOptions(gpio.command('read').argument('<LINE>', 'BCM line number').description('print the current level of a line'))
    .action(read);
}
