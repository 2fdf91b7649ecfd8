/**
 * The small interfaces a driver's tooling hooks receive (DriverDefinition `cli` and `control`),
 * so the CLI commands and control methods in a driver's folder never import agent/*: the CLI and
 * the control plane pass these in.
 */

/** One control request as the control server hands it: stream events, learn when the client left. */
export interface ControlRequest {
  emit(event: unknown): void;
  readonly signal: AbortSignal;
}
export type ControlHandler = (params: Record<string, unknown>, req: ControlRequest) => unknown;

/** What a driver's control hook may do with the control server: add methods. */
export interface ControlRegistry {
  /** Throws when the method is registered twice. Handlers throw ControlError (core/tool-errors) for one-line answers. */
  register(method: string, help: string, handler: ControlHandler): void;
}

/** Options of a CLI command that may go through the running daemon (`--socket`, `--config`, `--direct`). */
export interface DaemonTarget {
  socket?: string;
  config?: string;
  direct?: boolean;
}

/** The daemon's answer, or undefined when the caller must open the port itself. */
export type Routed = { result: unknown } | undefined;

export interface RouteOptions {
  timeoutMs?: number;
  /** Streamed events (progress, monitored lines). */
  onEvent?: (e: unknown) => void;
  /** Aborting ends the request (Ctrl-C on a monitor). */
  signal?: AbortSignal;
}

/** A source entry of a validated config file, as a driver's CLI reads it (narrow by `driver`). */
export interface SourceEntry {
  readonly id: string;
  readonly driver: string;
}

/** What the CLI hands a driver's cli hook. */
export interface CliTools {
  /** The daemon's control socket when neither --socket nor --config names one (for help texts). */
  readonly defaultSocket: string;
  /**
   * A diagnostic on a port (SPEC "CLI"): through the running daemon when it holds `what`, so the two
   * never fight over it; undefined when the caller opens the port itself. One stderr line says
   * which path was taken; daemon-side failures are thrown as CliError.
   */
  throughDaemon(o: DaemonTarget, what: string, method: string, params: Record<string, unknown>, opts?: RouteOptions): Promise<Routed>;
  /** The sources of a config file, validated; an invalid file throws a CliError naming every error. */
  loadSources(file: string): readonly SourceEntry[];
}
