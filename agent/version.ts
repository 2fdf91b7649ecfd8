import fs from 'node:fs';

declare const __EDGE_AGENT_VERSION__: string | undefined;

/** The bundle gets the version baked in by esbuild; from source it is read from package.json. */
export const VERSION: string =
  typeof __EDGE_AGENT_VERSION__ !== 'undefined'
    ? __EDGE_AGENT_VERSION__
    : (JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
