import fs from 'node:fs';
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
export function createLogger(level: LevelWithSilent = 'info', opts: { pretty?: boolean; destination?: number; journal?: boolean } = {}): Logger {
  const fd = opts.destination ?? 1;
  const wantPretty = opts.pretty ?? process.stdout.isTTY === true;
  const journal = opts.journal ?? isJournal(fd);
  const base = {
    level,
    base: undefined as undefined,
    redact: { paths: ['password', '*.password', 'key', '*.key'], censor: '[redacted]' },
    ...(journal ? { hooks: { streamWrite: withSyslogPrefix } } : {}),
  };
  if (wantPretty && prettyFactory) return pino(base, prettyFactory({ destination: fd, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
  return pino(base, pino.destination({ fd, sync: false }));
}

/** pino's numeric levels as syslog priorities (trace and debug: 7, info: 6, warn: 4, error: 3, fatal: 2). */
export function syslogPriority(pinoLevel: number): number {
  return pinoLevel >= 60 ? 2 : pinoLevel >= 50 ? 3 : pinoLevel >= 40 ? 4 : pinoLevel >= 30 ? 6 : 7;
}

/**
 * journald reads a leading `<N>` as the line's priority and strips it (SyslogLevelPrefix=, on by
 * default), so `journalctl -p warning` shows exactly warnings and errors while the line stays JSON.
 * The level is the first key of every line (base is undefined), so no parse is needed.
 */
export function withSyslogPrefix(line: string): string {
  if (!line.startsWith('{"level":')) return line;
  return `<${syslogPriority(parseInt(line.slice(9, 11), 10))}>${line}`;
}

/** True when fd is the journal's stream: systemd sets JOURNAL_STREAM to its "device:inode". */
export function isJournal(fd: number, env = process.env.JOURNAL_STREAM): boolean {
  if (!env) return false;
  try {
    const st = fs.fstatSync(fd);
    return env === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}

/** A logger that drops everything: for CLI one-shots and tests. */
export const silentLogger: Logger = pino({ level: 'silent' });
