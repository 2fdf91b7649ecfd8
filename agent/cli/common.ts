export const DEFAULT_CONFIG = '/etc/edge-agent/config.yaml';
export const DEFAULT_DATA_DIR = '/var/lib/edge-agent';

/** "1 point", "2 points": counts in CLI output read as English. */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** A failure the CLI reports as one line on stderr and exit 1 (no stack trace for operators). */
export { CliError } from '../../core/tool-errors.js';
