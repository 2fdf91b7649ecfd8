import os from 'node:os';

/** Every benchmark ends by printing one JSON line: bench/run.ts collects the last one. */
export function report(name: string, body: Record<string, unknown>): void {
  const doc = {
    name,
    machine: `${os.cpus().length}x ${os.cpus()[0]?.model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.arch()}`,
    node: process.version,
    date: new Date().toISOString(),
    ...body,
  };
  process.stdout.write(JSON.stringify(doc) + '\n');
}
