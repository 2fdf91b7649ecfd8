import fs from 'node:fs';
import path from 'node:path';
import { BUNDLE, REPO } from '../helpers/daemon.js';

/**
 * The unit's ExecStart as argv, with the board paths pointed at this checkout: /usr/bin/node ->
 * this node, /opt/edge-agent/edge-agent.mjs -> the built bundle, the config -> the test's.
 * Every node flag and argument stays as the unit has it.
 */
export function execStartArgv(config: string): { cmd: string; argv: string[] } {
  const unit = fs.readFileSync(path.join(REPO, 'systemd', 'edge-agent.service'), 'utf8');
  const line = unit.split('\n').find((l) => l.startsWith('ExecStart='));
  if (!line) throw new Error('no ExecStart= in the unit');
  const words = line.slice('ExecStart='.length).trim().split(/\s+/);
  const map: Record<string, string> = {
    '/usr/bin/node': process.execPath,
    '/opt/edge-agent/edge-agent.mjs': BUNDLE,
    '/etc/edge-agent/config.yaml': config,
  };
  for (const k of Object.keys(map)) if (!words.includes(k)) throw new Error(`ExecStart no longer names ${k}: ${line}`);
  const [cmd, ...argv] = words.map((w) => map[w] ?? w);
  return { cmd, argv };
}
