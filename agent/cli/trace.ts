import fs from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import { CliError } from './common.js';

/**
 * Maps positions in the bundle (`edge-agent.mjs:LINE:COL`, as a stack trace in the journal shows
 * them) back to the TypeScript sources, with the source map shipped beside the bundle. The unit
 * runs without --enable-source-maps: that flag costs about 13 MiB of RSS and 40 ms of start on
 * every board, all the time, for the rare trace that this does afterwards.
 */
export function mapTrace(text: string, map: SourceMap): string {
  return text.replace(/([^\s()]*edge-agent\.mjs):(\d+):(\d+)/g, (whole, _file: string, line: string, col: string) => {
    const e = map.findEntry(Number(line) - 1, Number(col) - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number };
    if (!e || e.originalSource === undefined || e.originalLine === undefined) return whole;
    return `${e.originalSource.replace(/^(\.\.\/)+/, '')}:${e.originalLine + 1}:${(e.originalColumn ?? 0) + 1}`;
  });
}

/** The bundle's own map: `<bundle>.map` next to the running file. */
export function defaultMapFile(): string {
  return `${fileURLToPath(import.meta.url)}.map`;
}

export function loadMap(file: string): SourceMap {
  let payload: unknown;
  try {
    payload = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CliError(`cannot read the source map ${file}: ${(e as Error).message} (give it with --map)`);
  }
  return new SourceMap(payload as ConstructorParameters<typeof SourceMap>[0]);
}
