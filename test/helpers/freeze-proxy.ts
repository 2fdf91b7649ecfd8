import net from 'node:net';

/**
 * A TCP proxy between a client and a broker that can freeze: the connections open at freeze()
 * stay up (no FIN, no RST) but nothing is forwarded either way any more, as when a NAT or a
 * middlebox drops a flow or a broker wedges. Connections made after freeze() work normally.
 */
export interface FreezeProxy {
  port: number;
  url: string;
  freeze(): void;
  close(): Promise<void>;
}

export async function startFreezeProxy(upstreamPort: number): Promise<FreezeProxy> {
  const pairs = new Set<{ a: net.Socket; b: net.Socket; frozen: boolean }>();
  const server = net.createServer((a) => {
    const b = net.connect(upstreamPort, '127.0.0.1');
    const pair = { a, b, frozen: false };
    pairs.add(pair);
    a.on('data', (d) => { if (!pair.frozen) b.write(d); });
    b.on('data', (d) => { if (!pair.frozen) a.write(d); });
    const end = () => { pairs.delete(pair); a.destroy(); b.destroy(); };
    a.on('close', end).on('error', end);
    b.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    freeze() {
      for (const p of pairs) p.frozen = true;
    },
    async close() {
      for (const p of pairs) { p.a.destroy(); p.b.destroy(); }
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
