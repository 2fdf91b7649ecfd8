import { Command, CommanderError, type Option } from 'commander';
import { commandGroups } from './commands.js';
import { CliError } from './common.js';
import { VERSION } from '../version.js';

/** `edge-agent <command>`: exit 0 ok, 1 failure, 2 usage error (SPEC "CLI"). */
export async function main(argv: string[]): Promise<void> {
  // Under --json, failures are JSON too ({"ok":false,"error":...} on stdout), so a script parsing
  // the output gets an answer it can read instead of a line of prose on stderr.
  const json = argv.includes('--json');
  const fail = (message: string, exitCode: number) => {
    if (json) process.stdout.write(JSON.stringify({ ok: false, error: message }) + '\n');
    else process.stderr.write(`edge-agent: ${message}\n`);
    process.exitCode = exitCode;
  };
  const program = new Command('edge-agent')
    .description('edge-agent: sensors -> pipelines -> SQLite outbox -> MQTT')
    .version(VERSION)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    // One notation for defaults in every --help: "(default: X)", never commander's quoted "(default: \"X\")".
    .configureHelp({ optionDescription: describeOption })
    .configureOutput(json ? { writeErr: (s) => (/^error: /.test(s) ? process.stdout.write(JSON.stringify({ ok: false, error: s.trim().replace(/^error: /, ''), usage: true }) + '\n') : undefined) } : {});
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
    if (e instanceof CliError) return fail(e.message, e.exitCode);
    // Not foreseen: the stack helps a bug report (plain output only).
    fail(json ? (e as Error).message ?? String(e) : (e as Error).stack ?? String(e), 1);
  }
}

function describeOption(o: Option): string {
  if (o.defaultValue === undefined || o.negate || /\(default[: ]/.test(o.description)) return o.description;
  const d = o.defaultValueDescription ?? (Array.isArray(o.defaultValue) ? o.defaultValue.join(',') : String(o.defaultValue));
  return `${o.description} (default: ${d})`;
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
