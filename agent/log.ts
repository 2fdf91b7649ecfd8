import pino, { type Logger, type LevelWithSilent } from 'pino';
import type { PrettyOptions } from 'pino-pretty';

type PrettyFactory = (o: PrettyOptions) => NodeJS.WritableStream;
let prettyFactory: PrettyFactory | undefined;

/**
 * Loads pino-pretty when a person watches a terminal (call before createLogger). Under systemd
 * stdout is the journal, so the daemon never pays for loading it.
 */
export async function preparePretty(force = false): Promise<void> {
  if (!force && process.stdout.isTTY !== true) return;
  prettyFactory ??= (await import('pino-pretty')).default as unknown as PrettyFactory;
}

export type { Logger };

/**
 * JSON logs for journald/collectors; pretty when a person watches a terminal.
 * pino-pretty runs as an in-process stream (no worker thread) to save memory on small boards.
 */
export function createLogger(level: LevelWithSilent = 'info', opts: { pretty?: boolean; destination?: number } = {}): Logger {
  const fd = opts.destination ?? 1;
  const wantPretty = opts.pretty ?? process.stdout.isTTY === true;
  const base = { level, base: undefined as undefined, redact: { paths: ['password', '*.password', 'key', '*.key'], censor: '[redacted]' } };
  if (wantPretty && prettyFactory) return pino(base, prettyFactory({ destination: fd, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
  return pino(base, pino.destination({ fd, sync: false }));
}

/** A logger that drops everything: for CLI one-shots and tests. */
export const silentLogger: Logger = pino({ level: 'silent' });
