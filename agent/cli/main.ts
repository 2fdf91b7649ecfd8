import { Command, CommanderError } from 'commander';
import { commandGroups } from './commands.js';
import { CliError } from './common.js';
import { VERSION } from '../version.js';

/** `edge-agent <command>`: exit 0 ok, 1 failure, 2 usage error (SPEC "CLI"). */
export async function main(argv: string[]): Promise<void> {
  const program = new Command('edge-agent')
    .description('edge-agent: sensors -> pipelines -> SQLite outbox -> MQTT')
    .version(VERSION)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  for (const register of commandGroups) register(program);
  program.commands.forEach(function override(c: Command) {
    c.exitOverride();
    c.commands.forEach(override);
  });
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version are exit 0; everything else commander rejects is a usage error.
      process.exitCode = e.exitCode === 0 ? 0 : 2;
      return;
    }
    if (e instanceof CliError) {
      process.stderr.write(`edge-agent: ${e.message}\n`);
      process.exitCode = e.exitCode;
      return;
    }
    process.stderr.write(`edge-agent: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  }
}

// `edge-agent buffer stats | head`: a reader that goes away early is not a failure of ours. (Not
// for `run`: the daemon logs through pino's own fd writer, and its stdout is the journal.)
if (process.argv[2] !== 'run') {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

main(process.argv);
