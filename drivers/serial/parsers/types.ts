import type { Value } from '../../../core/reading.js';

/** Receives the points of one line; the caller stamps them all with the line's time. */
export type PointSink = (point: string, value: Value) => void;

/** Why a line gave nothing: `kind` is the counted error label (SourceContext.error). */
export interface ParseFailure {
  kind: string;
  message: string;
}

/**
 * Turns one decoded line into points. Returns undefined on success (including a valid line
 * that carries no point of interest, e.g. an NMEA GSV sentence), or why the line was rejected.
 */
export interface LineParser {
  parse(line: string, out: PointSink): ParseFailure | undefined;
  /** Point names known from the config alone (regex groups, NMEA fields); undefined when data-driven. */
  readonly points?: readonly string[];
}

/** "21.5", "-3", "1e3" -> number; anything else stays text. Hex and empty strings stay text. */
const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
export function toValue(text: string): Value {
  return NUMERIC.test(text) ? Number(text) : text;
}

/** Point names end up in topics and globs (agent/config/primitives identifier()). */
export const POINT_NAME = /^[A-Za-z0-9_.:-]+$/;

/** Shorten a line for an error message: garbage can be long. */
export function excerpt(line: string, max = 80): string {
  return JSON.stringify(line.length > max ? line.slice(0, max) + '…' : line);
}
