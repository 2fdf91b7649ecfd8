import fs from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, isMap, isPair, isScalar, type Document, type Node } from 'yaml';
import { configSchema, type Config } from './schema.js';
import { fromZodIssues, formatPath, type ConfigError } from './errors.js';
import { mergeMisspelled } from './typos.js';
import { describeFsError, readBounded, MAX_CONFIG_BYTES } from './read-bounded.js';

export class ConfigInvalidError extends Error {
  constructor(readonly errors: ConfigError[], readonly file?: string) {
    super(`${errors.length} config error${errors.length === 1 ? '' : 's'}${file ? ` in ${file}` : ''}`);
  }
}

/** line:col of the value at a key path (for checks made after parsing, e.g. preflight). */
export type Locator = (p: readonly PropertyKey[]) => { line: number; col: number } | undefined;

export type ParseResult =
  | { ok: true; config: Config; raw: unknown; where?: Locator }
  | { ok: false; errors: ConfigError[] };

/** Position of the value at `path`, or of its deepest existing ancestor (for missing keys). */
function locate(doc: Document, lc: LineCounter, p: readonly PropertyKey[]): { line: number; col: number } | undefined {
  for (let n = p.length; n >= 0; n--) {
    const node = (n === 0 ? doc.contents : doc.getIn(p.slice(0, n) as unknown[], true)) as Node | undefined;
    if (node?.range) return pos(lc, node.range[0]);
  }
  return undefined;
}

function pos(lc: LineCounter, offset: number | undefined) {
  if (offset === undefined) return undefined;
  const lp = lc.linePos(offset);
  return { line: lp.line, col: lp.col };
}

/** Position of the key of the pair at `path` (used for unknown keys). */
function locateKey(doc: Document, lc: LineCounter, p: readonly PropertyKey[]) {
  const parent = p.slice(0, -1);
  const last = p[p.length - 1];
  const parentNode = parent.length ? doc.getIn(parent as unknown[], true) : doc.contents;
  if (isMap(parentNode)) {
    const pair = parentNode.items.find((it) => isPair(it) && (isScalar(it.key) ? it.key.value : it.key) === last);
    const kn = pair?.key as Node | undefined;
    if (kn?.range) return pos(lc, kn.range[0]);
  }
  return locate(doc, lc, p);
}

/**
 * Parse and validate config text. Collects every error (YAML syntax and schema) with its
 * key path and line:col; never stops at the first.
 */
export function parseConfigText(text: string): ParseResult {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const errors: ConfigError[] = [];
  // Only the first syntax error: the parser's later ones are consequences of it (one unclosed
  // quote or bad indent gives 2-4), and guessing past it would name keys that are fine.
  const first = doc.errors[0];
  if (first) {
    const lp = lc.linePos(first.pos[0]);
    errors.push({ path: '(yaml)', message: first.message.split('\n')[0], line: lp.line, col: lp.col });
    return { ok: false, errors };
  }
  const raw = doc.toJS({ maxAliasCount: 100 });
  const res = validate(raw, (p, unknownKey) => (unknownKey ? locateKey(doc, lc, p) : locate(doc, lc, p)));
  return res.ok ? { ...res, where: (p) => locate(doc, lc, p) } : res;
}

/** Validate an already-parsed object (remote pushes). Positions are absent. */
export function validate(raw: unknown, where?: (p: readonly PropertyKey[], unknownKey: boolean) => { line: number; col: number } | undefined): ParseResult {
  const res = configSchema.safeParse(raw ?? {});
  if (res.success) return { ok: true, config: res.data, raw };
  const errors: ConfigError[] = mergeMisspelled(fromZodIssues(res.error.issues, raw)).map((i) => {
    const unknownKey = i.message.startsWith('unknown key');
    const at = where?.(i.path, unknownKey);
    return { path: formatPath(i.path), message: i.message, line: at?.line, col: at?.col };
  });
  errors.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
  return { ok: false, errors };
}

/** Paths in the config are relative to the config file's folder. */
export function resolvePaths(cfg: Config, baseDir: string): Config {
  const r = (p: string | undefined) => (p === undefined ? undefined : path.resolve(baseDir, p));
  const m = cfg.uplink.mqtt;
  return {
    ...cfg,
    agent: { ...cfg.agent, dataDir: r(cfg.agent.dataDir)! },
    uplink: { ...cfg.uplink, mqtt: { ...m, passwordFile: r(m.passwordFile), ca: r(m.ca), cert: r(m.cert), key: r(m.key) } },
    control: {
      ...cfg.control,
      socket: r(cfg.control.socket)!,
      remoteConfig: { ...cfg.control.remoteConfig, publicKey: r(cfg.control.remoteConfig.publicKey) },
      commands: { ...cfg.control.commands, publicKey: r(cfg.control.commands.publicKey) },
    },
  };
}

export interface LoadedConfig {
  config: Config;
  raw: unknown;
  file: string;
  baseDir: string;
  where?: Locator;
}

/** Read, parse, validate and resolve a config file; throws ConfigInvalidError listing every problem. */
export function loadConfigFile(file: string): LoadedConfig {
  let text: string;
  try {
    text = readBounded(file, MAX_CONFIG_BYTES);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const msg = err.code === 'EFBIG' ? err.message : `cannot read ${file}: ${describeFsError(err)}`;
    throw new ConfigInvalidError([{ path: '(file)', message: msg }], file);
  }
  const res = parseConfigText(text);
  if (!res.ok) throw new ConfigInvalidError(res.errors, file);
  const baseDir = path.dirname(path.resolve(file));
  return { config: resolvePaths(res.config, baseDir), raw: res.raw, file, baseDir, where: res.where };
}
