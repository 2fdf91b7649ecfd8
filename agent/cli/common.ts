export const DEFAULT_CONFIG = '/etc/edge-agent/config.yaml';
export const DEFAULT_DATA_DIR = '/var/lib/edge-agent';

/** A failure the CLI reports as one line on stderr and exit 1 (no stack trace for operators). */
export { CliError } from '../../core/tool-errors.js';
