import type { Command } from 'commander';
import { CliError } from '../../../core/tool-errors.js';
import { createLogger, preparePretty } from '../../../core/log.js';
import { standaloneContext } from '../../context.js';
import { pinSchema } from '../config.js';
import { PinRunner } from '../pin.js';
import { commonOptions, parseLine, parseMs, resolveLine, where, type CommonOpts } from './common.js';

interface WatchOpts extends CommonOpts {
  edge: string;
  debounce: string;
  pollInterval: string;
  count?: string;
  for?: string;
}

async function watch(lineArg: string, o: WatchOpts): Promise<void> {
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
  const ctx = standaloneContext({
    sourceId: 'cli',
    log: createLogger('info', { destination: 2 }),
    emit: (_p, value, quality, ts) => {
      if (quality === 'bad') return;
      out(value === true, ts);
    },
    error: (_kind, message) => {
      process.stderr.write(`edge-agent: ${message}\n`);
      done(1);
    },
  });
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
}

/** `gpio watch LINE`. */
export function registerWatch(gpio: Command): void {
  commonOptions(gpio.command('watch').argument('<LINE>', 'BCM line number').description('print each change of a line (Ctrl-C to stop)'))
    .option('--edge <edge>', 'rising | falling | both', 'both')
    .option('--debounce <duration>', 'a new level counts once it held this long', '0')
    .option('--poll-interval <duration>', 'sampling period without edge interrupts', '10ms')
    .option('--count <n>', 'exit after n changes')
    .option('--for <duration>', 'exit after this long')
    .action(watch);
}
