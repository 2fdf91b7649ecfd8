import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { tempDir } from './daemon.js';
import { waitFor } from './source-context.js';
import { onLines } from './system.js';

/** Where the receiver runs: Debian's python3 (Node cannot bind an AF_UNIX SOCK_DGRAM socket). */
export const PYTHON = '/usr/bin/python3';

// recv() without an ancillary buffer: the kernel closes the fd that systemd-notify's BARRIER=1
// passes, which is what PID 1 does, so systemd-notify's barrier completes at once.
const RECEIVER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("LISTENING", flush=True)
while True:
    print(s.recv(65536).decode(errors="replace").replace("\\n", "|"), flush=True)
`;

export interface NotifyMessage {
  at: number;
  fields: string[];
}

/** A fake $NOTIFY_SOCKET that records each datagram with its arrival time (performance.now()). */
export async function fakeNotifySocket(): Promise<{ path: string; messages: NotifyMessage[]; count(field: string): number; close(): void }> {
  const dir = tempDir('edge-notify-');
  const sock = path.join(dir, 'notify.sock');
  const script = path.join(dir, 'recv.py');
  fs.writeFileSync(script, RECEIVER);
  const proc = spawn(PYTHON, [script, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages: NotifyMessage[] = [];
  let listening = false;
  onLines(proc.stdout!, (line) => {
    if (line === 'LISTENING') listening = true;
    else messages.push({ at: performance.now(), fields: line.split('|').filter(Boolean) });
  });
  await waitFor(() => listening, 10_000, 'notify receiver listening');
  return {
    path: sock,
    messages,
    count: (field) => messages.filter((m) => m.fields.includes(field)).length,
    close: () => proc.kill('SIGKILL'),
  };
}
