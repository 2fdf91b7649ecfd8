import type { Command } from 'commander';
import { CliError } from './common.js';
import { parseDuration } from '../../core/units.js';
import { createLogger, preparePretty } from '../../core/log.js';
import { systemClock } from '../../core/clock.js';
import type { SourceContext } from '../../drivers/types.js';
import { chooseBackend } from '../../drivers/gpio/choose.js';
import { GpioResolveError } from '../../drivers/gpio/sysfs-tree.js';
import { pinSchema } from '../../drivers/gpio/config.js';
import { PinRunner } from '../../drivers/gpio/pin.js';
import type { GpioBackend, ResolvedLine } from '../../drivers/gpio/backend.js';
import { registerGpioWrite } from './gpio-write.js';

interface CommonOpts {
  activeLow?: boolean;
  chip?: string;
  sysfsRoot?: string;
  backend: 'auto' | 'onoff' | 'sysfs';
  json?: boolean;
}

function parseLine(s: string): number {
  if (!/^\d+$/.test(s) || Number(s) > 1023) throw new CliError(`LINE must be a BCM line number (0-1023), got ${JSON.stringify(s)}`, 2);
  return Number(s);
}

function parseMs(what: string, s: string): number {
  const v = parseDuration(/^\d+$/.test(s) ? Number(s) : s);
  if (v === undefined) throw new CliError(`${what}: invalid duration ${JSON.stringify(s)} (e.g. 20ms, 1s)`, 2);
  return v;
}

async function resolveLine(line: number, o: CommonOpts): Promise<{ backend: GpioBackend; r: ResolvedLine }> {
  if (!['auto', 'onoff', 'sysfs'].includes(o.backend)) throw new CliError(`--backend must be auto, onoff or sysfs`, 2);
  try {
    const backend = await chooseBackend({ backend: o.backend, sysfsRoot: o.sysfsRoot, chip: o.chip });
    return { backend, r: await backend.resolve(line) };
  } catch (e) {
    if (e instanceof GpioResolveError) throw new CliError(e.message);
    throw new CliError(`gpio: ${(e as Error).message}`);
  }
}

const where = (r: ResolvedLine) => `line ${r.line} (gpio${r.number} on ${r.chipLabel})`;

function common(c: Command): Command {
  return c
    .option('--active-low', 'invert the level (as the pin option activeLow)')
    .option('--chip <label>', 'gpiochip label (default: the Raspberry Pi header chip)')
    .option('--sysfs-root <dir>', 'sysfs GPIO root (default: $EDGE_AGENT_GPIO_SYSFS or /sys/class/gpio)')
    .option('--backend <name>', 'auto | onoff | sysfs', 'auto')
    .option('--json', 'machine-readable output');
}

export function register(program: Command): void {
  const gpio = program.command('gpio').description('read, watch and write GPIO lines (BCM numbering)');

  common(gpio.command('read').argument('<LINE>', 'BCM line number').description('print the current level of a line'))
    .action(async (lineArg: string, o: CommonOpts) => {
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
    });

  common(gpio.command('watch').argument('<LINE>', 'BCM line number').description('print each change of a line (Ctrl-C to stop)'))
    .option('--edge <edge>', 'rising | falling | both', 'both')
    .option('--debounce <duration>', 'a new level counts once it held this long', '0')
    .option('--poll-interval <duration>', 'sampling period without edge interrupts', '10ms')
    .option('--count <n>', 'exit after n changes')
    .option('--for <duration>', 'exit after this long')
    .action(async (lineArg: string, o: CommonOpts & { edge: string; debounce: string; pollInterval: string; count?: string; for?: string }) => {
      await preparePretty();
      const line = parseLine(lineArg);
      if (!['rising', 'falling', 'both'].includes(o.edge)) throw new CliError(`--edge must be rising, falling or both, got ${JSON.stringify(o.edge)}`, 2);
      const debounce = parseMs('--debounce', o.debounce);
      const pollIntervalMs = Math.max(1, parseMs('--poll-interval', o.pollInterval));
      const count = o.count === undefined ? Infinity : Number(o.count);
      if (!(count > 0)) throw new CliError(`--count must be a positive integer`, 2);
      const forMs = o.for === undefined ? undefined : parseMs('--for', o.for);
      const { backend, r } = await resolveLine(line, o);

      let done!: (code: number) => void;
      const finished = new Promise<number>((res) => (done = res));
      let seen = 0;
      let initial = true;
      const out = (value: boolean, ts: number) => {
        const v = value ? 1 : 0;
        const tag = initial ? 'initial' : v ? 'rising' : 'falling';
        if (o.json) process.stdout.write(JSON.stringify({ ts, line, gpio: r.number, value: v, event: tag }) + '\n');
        else process.stdout.write(`${new Date(ts).toISOString()} ${where(r)}: ${v} (${tag})\n`);
        if (!initial && ++seen >= count) done(0);
        initial = false;
      };
      const ctx: SourceContext = {
        sourceId: 'cli',
        log: createLogger('info', { destination: 2 }),
        clock: systemClock,
        dataDir: '/nonexistent',
        emit: (_p, value, quality, ts) => {
          if (quality === 'bad') return;
          out(value === true, ts ?? Date.now());
        },
        error: (_kind, message) => {
          process.stderr.write(`edge-agent: ${message}\n`);
          done(1);
        },
        setState: () => undefined,
      };
      const pin = pinSchema.parse({ name: 'cli', line, edge: o.edge, debounce, activeLow: !!o.activeLow, maxSilence: 2 ** 31 - 1 });
      const runner = new PinRunner(pin, ctx, backend, { pollIntervalMs, readOnlyIfShared: true, onHealth: () => undefined });
      const stop = () => done(0);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const timer = forMs === undefined ? undefined : setTimeout(stop, forMs);
      try {
        await runner.start();
        process.exitCode = await finished;
      } finally {
        if (timer) clearTimeout(timer);
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        runner.close();
      }
    });
  registerGpioWrite(gpio);
}
