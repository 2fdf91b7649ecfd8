import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { BUNDLE, REPO } from '../../helpers/daemon.js';

// `edge-agent buffer stats | head -1`: the reader leaving early must not print a crash.
test('a CLI command whose stdout reader went away exits quietly, with no EPIPE stack', async () => {
  const child = spawn(process.execPath, [BUNDLE, 'check', '--config', `${REPO}/examples/demo.yaml`], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy(); // closed before the child writes (it needs ~150 ms to start)
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  assert.doesNotMatch(stderr, /EPIPE|Unhandled/, stderr);
  assert.equal(code, 0);
});
