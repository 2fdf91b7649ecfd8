/**
 * Failures the operator-facing tools show as one line, without a stack. Here on the ground floor
 * so a driver's own CLI commands and control methods (in its folder) throw them without
 * importing the CLI or the control server.
 */

/** The CLI prints it as one line on stderr and exits with `exitCode` (1 failure, 2 usage). */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** The control socket answers it as it is, with `code` (bad-params, not-held, ...). */
export class ControlError extends Error {
  constructor(message: string, readonly code = 'failed') {
    super(message);
  }
}
