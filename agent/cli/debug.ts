import type { Command } from 'commander';
import fs from 'node:fs';
import { ask, targetOptions, type TargetOptions } from './control-target.js';
import { defaultMapFile, loadMap, mapTrace } from './trace.js';

/** Field profiling without a debugger: the daemon writes the file (in dataDir/debug), the CLI says where. */
export function register(program: Command): void {
  const debug = program.command('debug').description('profile the running daemon (files open in Chrome DevTools); map stack traces to sources');
  targetOptions(debug.command('profile'))
    .description('CPU profile of the daemon for N seconds (.cpuprofile)')
    .option('--seconds <n>', 'how long to profile', '10')
    .option('--json', 'machine-readable output')
    .action(async (opts: TargetOptions & { seconds: string; json?: boolean }) => {
      const seconds = Number(opts.seconds);
      const r = (await ask(opts, 'debug.profile', { seconds }, (seconds + 30) * 1000)) as { file: string; bytes: number };
      process.stdout.write(opts.json ? JSON.stringify(r) + '\n' : `${r.file} (${r.bytes} bytes): open in Chrome DevTools > Performance\n`);
    });
  targetOptions(debug.command('heap'))
    .description('heap snapshot of the daemon (.heapsnapshot; needs about the heap size again in RAM)')
    .option('--json', 'machine-readable output')
    .action(async (opts: TargetOptions & { json?: boolean }) => {
      const r = (await ask(opts, 'debug.heap', {}, 120_000)) as { file: string; bytes: number };
      process.stdout.write(opts.json ? JSON.stringify(r) + '\n' : `${r.file} (${r.bytes} bytes): open in Chrome DevTools > Memory\n`);
    });
  debug.command('trace')
    .description('map bundle positions in a stack trace (from the journal) to the TypeScript sources')
    .argument('[file]', 'file holding the trace (default: standard input)')
    .option('--map <file>', 'source map of the bundle (default: the one beside this bundle)')
    .action((file: string | undefined, opts: { map?: string }) => {
      const map = loadMap(opts.map ?? defaultMapFile());
      const text = fs.readFileSync(file ?? 0, 'utf8');
      process.stdout.write(mapTrace(text, map));
    });
}
