import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './schema.js';
import { formatPath, type ConfigError } from './errors.js';
import type { Locator } from './load.js';
import { describeFsError } from './read-bounded.js';
import { drivers } from '../../drivers/index.js';
import { globToRegExp } from '../../pipelines/glob.js';

/**
 * SPEC "Operation": anything `check` can know is checked there, and `run` refuses the same
 * things with the same one-line messages before anything starts. The schema checks shapes;
 * this checks what needs the machine: files the config names, ports, and pipelines that can
 * never match (a warning: the config works, it just does not do what it says).
 */
export interface Preflight {
  errors: ConfigError[];
  warnings: ConfigError[];
}

/** Files the config names, by key path. Optional keys (commands) are read when the schema has them. */
const FILE_KEYS: readonly (readonly string[])[] = [
  ['uplink', 'mqtt', 'passwordFile'],
  ['uplink', 'mqtt', 'ca'],
  ['uplink', 'mqtt', 'cert'],
  ['uplink', 'mqtt', 'key'],
  ['control', 'remoteConfig', 'publicKey'],
  ['control', 'commands', 'publicKey'],
];

export function preflight(config: Config, where?: Locator): Preflight {
  const errors: ConfigError[] = [];
  const warnings: ConfigError[] = [];
  const at = (p: readonly PropertyKey[], message: string): ConfigError => {
    const pos = where?.(p);
    return { path: formatPath(p), message, line: pos?.line, col: pos?.col };
  };
  for (const key of FILE_KEYS) {
    const file = getIn(config, key);
    if (typeof file !== 'string') continue;
    const problem = unreadable(file);
    if (problem) errors.push(at(key, problem));
  }
  const urlProblem = checkUrl(config.uplink.mqtt.url);
  if (urlProblem) errors.push(at(['uplink', 'mqtt', 'url'], urlProblem));
  const listen = config.control.metrics?.listen;
  if (listen !== undefined) {
    const port = Number(listen.slice(listen.lastIndexOf(':') + 1));
    if (!(port >= 1 && port <= 65535)) errors.push(at(['control', 'metrics', 'listen'], `port ${port} is out of range (1-65535)`));
  }
  warnings.push(...unmatchedPipelines(config).map((i) => at(['pipelines', i, 'match'], `matches no source/point of this config ("${config.pipelines[i].match}" is a glob over "source/point"; known: ${knownSample(config)})`)));
  const dd = dataDirProblem(config.agent.dataDir);
  if (dd) warnings.push(at(['agent', 'dataDir'], dd));
  return { errors, warnings };
}

/** Why `file` cannot be read by this user, or undefined. */
function unreadable(file: string): string | undefined {
  try {
    const st = fs.statSync(file);
    if (st.isDirectory()) return `${file} is a directory, expected a file`;
    fs.accessSync(file, fs.constants.R_OK);
    return undefined;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return `file ${file} does not exist`;
    if (err.code === 'EACCES') return `file ${file} is not readable by this user (uid ${process.getuid?.() ?? '?'}): check its owner and mode`;
    return `cannot read ${file}: ${describeFsError(err)}`;
  }
}

function checkUrl(url: string): string | undefined {
  // WHATWG URL refuses ports above 65535 with a bare "Invalid URL": say what is wrong.
  const m = /^[a-z]+:\/\/(?:[^@/]*@)?(\[[^\]]*\]|[^:/]*)(?::(\d*))?/i.exec(url);
  if (!m) return undefined;
  if (!m[1]) return 'the URL has no host';
  if (m[2] !== undefined) {
    const port = Number(m[2]);
    if (m[2] === '' || !(port >= 1 && port <= 65535)) return `port ${m[2] || '(empty)'} is out of range (1-65535)`;
  }
  return undefined;
}

/** Indexes of pipelines whose match fits no "source/point" the config's sources can emit. */
export function unmatchedPipelines(config: Config): number[] {
  const known: string[] = [];
  const opaque: string[] = []; // sources whose point names are only known at run time (json, kv parsers)
  for (const s of config.sources as { id: string; driver: string; enabled: boolean }[]) {
    if (!s.enabled) continue;
    const names = drivers.find((d) => d.name === s.driver)?.pointNames?.(s as never) ?? [];
    if (names.length === 0) opaque.push(s.id);
    for (const n of names) known.push(`${s.id}/${n}`);
  }
  const out: number[] = [];
  config.pipelines.forEach((p, i) => {
    const re = globToRegExp(p.match);
    if (known.some((k) => re.test(k))) return;
    // A point of an opaque source could be anything: only warn when the glob cannot even reach
    // that source (its literal part before the first wildcard rules the source out).
    const literal = p.match.split(/[*?]/)[0];
    const wild = literal.length < p.match.length;
    if (opaque.some((id) => (wild ? `${id}/`.startsWith(literal) || literal.startsWith(`${id}/`) : literal.startsWith(`${id}/`)))) return;
    out.push(i);
  });
  return out;
}

function knownSample(config: Config): string {
  const names: string[] = [];
  for (const s of config.sources as { id: string; driver: string }[]) {
    const pts = drivers.find((d) => d.name === s.driver)?.pointNames?.(s as never) ?? [];
    if (pts.length === 0) names.push(`${s.id}/...`);
    for (const p of pts) names.push(`${s.id}/${p}`);
  }
  return names.length ? names.slice(0, 5).join(', ') + (names.length > 5 ? `, ... (${names.length})` : '') : 'no sources';
}

/**
 * The daemon runs on with an unwritable data dir (readings wait in memory), so this is a
 * warning; `check` often runs as another user than the service, which the message says.
 */
function dataDirProblem(dir: string): string | undefined {
  let probe = dir;
  while (!fs.existsSync(probe)) {
    const up = path.dirname(probe);
    if (up === probe) break;
    probe = up;
  }
  try {
    const st = fs.statSync(probe);
    if (!st.isDirectory()) return `${probe} is not a directory: the outbox cannot be kept there (readings would wait in memory only)`;
    fs.accessSync(probe, fs.constants.W_OK | fs.constants.X_OK);
    return undefined;
  } catch {
    const what = probe === dir ? `${dir} exists but is not writable` : `${dir} does not exist and cannot be created (${probe} is not writable)`;
    return `${what} by this user (uid ${process.getuid?.() ?? '?'}); the service's user may differ, but if it is the same the outbox cannot be kept (readings would wait in memory only)`;
  }
}

function getIn(o: unknown, p: readonly PropertyKey[]): unknown {
  let cur = o;
  for (const k of p) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}
